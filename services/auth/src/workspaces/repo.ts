import { and, eq } from 'drizzle-orm'
import { memberships, processedEvents, type Role, workspaces } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

export type WorkspaceRow = typeof workspaces.$inferSelect
export type MembershipRow = typeof memberships.$inferSelect

export async function insertWorkspace(db: Executor, name: string, createdBy: string): Promise<WorkspaceRow> {
  const [row] = await db.insert(workspaces).values({ name, createdBy }).returning()
  if (!row) throw new Error('workspace insert returned nothing')
  return row
}

export async function findWorkspace(db: Executor, workspaceId: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId)).limit(1)
  return row
}

export async function findMembership(db: Executor, workspaceId: string, userId: string) {
  const [row] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .limit(1)
  return row
}

export async function listMemberships(db: Executor, userId: string) {
  return db
    .select({
      workspaceId: memberships.workspaceId,
      workspaceName: workspaces.name,
      role: memberships.role,
      ssoAllowed: memberships.ssoAllowed,
    })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(workspaces.createdAt)
}

export async function insertMembership(db: Executor, values: typeof memberships.$inferInsert): Promise<void> {
  await db.insert(memberships).values(values)
}

/**
 * Grants (or re-grants, e.g. after a new invitation with another role) a membership from an
 * accepted invitation. An existing owner keeps being owner.
 */
export async function upsertInvitedMembership(
  db: Executor,
  values: { workspaceId: string; userId: string; role: Role; invitationId: string },
): Promise<void> {
  await db
    .insert(memberships)
    .values({ ...values, ssoAllowed: true, source: 'invitation' })
    .onConflictDoUpdate({
      target: [memberships.workspaceId, memberships.userId],
      set: { ssoAllowed: true, invitationId: values.invitationId },
    })
}

/** Records an event as applied; false when it already was (the caller then does nothing). */
export async function markEventProcessed(db: Executor, eventId: string, type: string): Promise<boolean> {
  const inserted = await db
    .insert(processedEvents)
    .values({ eventId, type })
    .onConflictDoNothing()
    .returning({ eventId: processedEvents.eventId })
  return inserted.length === 1
}
