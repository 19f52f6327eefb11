import { and, eq, isNotNull } from 'drizzle-orm'
import { auditLog, memberships, ssoConnections, users, workspaces } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

export type ConnectionRow = typeof ssoConnections.$inferSelect

export async function insertConnection(db: Executor, workspaceId: string): Promise<ConnectionRow | undefined> {
  const [row] = await db
    .insert(ssoConnections)
    .values({ workspaceId })
    .onConflictDoNothing({ target: ssoConnections.workspaceId })
    .returning()
  return row
}

export async function findConnectionByWorkspace(db: Executor, workspaceId: string): Promise<ConnectionRow | undefined> {
  const [row] = await db.select().from(ssoConnections).where(eq(ssoConnections.workspaceId, workspaceId)).limit(1)
  return row
}

export async function findConnection(db: Executor, connectionId: string): Promise<ConnectionRow | undefined> {
  const [row] = await db.select().from(ssoConnections).where(eq(ssoConnections.id, connectionId)).limit(1)
  return row
}

export async function updateConnection(
  db: Executor,
  connectionId: string,
  changes: Partial<Omit<ConnectionRow, 'id' | 'workspaceId' | 'createdAt'>>,
): Promise<ConnectionRow> {
  const [row] = await db
    .update(ssoConnections)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(ssoConnections.id, connectionId))
    .returning()
  if (!row) throw new Error('connection vanished during update')
  return row
}

export async function deleteConnection(db: Executor, connectionId: string): Promise<void> {
  await db.delete(ssoConnections).where(eq(ssoConnections.id, connectionId))
}

export async function insertAudit(
  db: Executor,
  entry: { workspaceId: string; actorUserId: string; action: string; changes: Record<string, unknown> },
): Promise<void> {
  await db.insert(auditLog).values(entry)
}

/** The enabled, configured connections of the workspaces where this email may use SSO. */
export async function findUsableConnections(db: Executor, email: string) {
  return db
    .select({ connectionId: ssoConnections.id, workspaceId: workspaces.id, workspaceName: workspaces.name })
    .from(users)
    .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.ssoAllowed, true)))
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .innerJoin(
      ssoConnections,
      and(
        eq(ssoConnections.workspaceId, workspaces.id),
        eq(ssoConnections.enabled, true),
        isNotNull(ssoConnections.idpSsoUrl),
      ),
    )
    .where(and(eq(users.email, email), eq(users.createdVia, 'password')))
    .orderBy(workspaces.name)
}

/**
 * CONTRACT.md's rule, parts 2 and 3, in one query: the password account with this email and its
 * SSO-allowed membership in the workspace, if both exist.
 */
export async function findSsoEligibleUser(db: Executor, email: string, workspaceId: string) {
  const [row] = await db
    .select({ user: users })
    .from(users)
    .innerJoin(
      memberships,
      and(eq(memberships.userId, users.id), eq(memberships.workspaceId, workspaceId), eq(memberships.ssoAllowed, true)),
    )
    .where(and(eq(users.email, email), eq(users.createdVia, 'password')))
    .limit(1)
  return row?.user
}
