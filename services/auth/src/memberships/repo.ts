import { and, eq, isNull, sql } from 'drizzle-orm'
import { memberships, type Role, sessions, users, workspaces } from '../db/schema.ts'
import type { EndedSession, Executor } from '../sessions/repo.ts'
import { endedColumns } from '../sessions/repo.ts'

/**
 * The workspace row, locked until the transaction ends, with every membership's role: changes to
 * a workspace's memberships take this lock one after another, so two owners demoting each other
 * (or leaving) at once cannot both succeed and leave the workspace without an owner.
 */
export async function lockWorkspaceMembers(db: Executor, workspaceId: string) {
  const [workspace] = await db
    .select({ id: workspaces.id, name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .for('update')
  if (!workspace) return undefined
  const members = await db
    .select({ userId: memberships.userId, role: memberships.role, email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, workspaceId))
  return { workspace, members }
}

export async function deleteMembership(db: Executor, workspaceId: string, userId: string): Promise<void> {
  await db.delete(memberships).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
}

export async function updateRole(db: Executor, workspaceId: string, userId: string, role: Role): Promise<void> {
  await db
    .update(memberships)
    .set({ role })
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
}

/**
 * Ends the person's live sessions that reach the workspace through its IdP. Their password
 * sessions stay (they reach the person's other workspaces); without the membership they no longer
 * reach this one.
 */
export async function revokeWorkspaceSessions(
  db: Executor,
  workspaceId: string,
  userId: string,
  now: Date,
): Promise<EndedSession[]> {
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(
      and(
        eq(sessions.userId, userId),
        eq(sessions.workspaceId, workspaceId),
        isNull(sessions.revokedAt),
        sql`${sessions.expiresAt} > ${now.toISOString()}::timestamptz`,
      ),
    )
    .returning(endedColumns)
}

/**
 * The owner's password way into a workspace that requires SSO (recoverAsOwner) is the owner's
 * only: once the person is no longer its owner (demoted, transferred, removed), none of their
 * sessions keeps it.
 */
export async function endOwnerRecovery(db: Executor, workspaceId: string, userId: string): Promise<void> {
  await db
    .update(sessions)
    .set({ recoveryWorkspaceId: null })
    .where(and(eq(sessions.userId, userId), eq(sessions.recoveryWorkspaceId, workspaceId)))
}

/** Deletes the workspace; its memberships, SSO connection, domains and setup links go with it (cascades). */
export async function deleteWorkspace(db: Executor, workspaceId: string): Promise<void> {
  await db.delete(workspaces).where(eq(workspaces.id, workspaceId))
}
