import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm'
import { memberships, setupLinks, users, workspaces } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

export type SetupLinkRow = typeof setupLinks.$inferSelect

export async function insertSetupLink(
  db: Executor,
  link: { workspaceId: string; tokenHash: string; createdBy: string; expiresAt: Date },
): Promise<SetupLinkRow> {
  const [row] = await db.insert(setupLinks).values(link).returning()
  if (!row) throw new Error('setup link insert returned nothing')
  return row
}

export async function listSetupLinks(db: Executor, workspaceId: string): Promise<SetupLinkRow[]> {
  return db
    .select()
    .from(setupLinks)
    .where(eq(setupLinks.workspaceId, workspaceId))
    .orderBy(desc(setupLinks.createdAt))
    .limit(50)
}

export async function countLiveSetupLinks(db: Executor, workspaceId: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(setupLinks)
    .where(and(eq(setupLinks.workspaceId, workspaceId), isNull(setupLinks.revokedAt), gt(setupLinks.expiresAt, now)))
  return row?.count ?? 0
}

/** Revokes a live link of the workspace; undefined when there is none by that id. */
export async function revokeSetupLink(db: Executor, workspaceId: string, linkId: string, now: Date) {
  const [row] = await db
    .update(setupLinks)
    .set({ revokedAt: now })
    .where(and(eq(setupLinks.id, linkId), eq(setupLinks.workspaceId, workspaceId), isNull(setupLinks.revokedAt)))
    .returning()
  return row
}

/**
 * The live link with this token hash: not revoked, not expired, and its creator still an owner
 * of the workspace (the link carries the owner's consent, which ends with their ownership).
 */
export async function findLiveSetupLink(db: Executor, tokenHash: string, now: Date) {
  const [row] = await db
    .select({ link: setupLinks, workspaceName: workspaces.name, ownerEmail: users.email })
    .from(setupLinks)
    .innerJoin(workspaces, eq(workspaces.id, setupLinks.workspaceId))
    .innerJoin(
      memberships,
      and(
        eq(memberships.workspaceId, setupLinks.workspaceId),
        eq(memberships.userId, setupLinks.createdBy),
        eq(memberships.role, 'owner'),
      ),
    )
    .innerJoin(users, eq(users.id, setupLinks.createdBy))
    .where(and(eq(setupLinks.tokenHash, tokenHash), isNull(setupLinks.revokedAt), gt(setupLinks.expiresAt, now)))
    .limit(1)
  return row
}

/** Stamps the link's first use; true only for the request that made it (so it is told once). */
export async function markFirstUse(db: Executor, linkId: string, now: Date): Promise<boolean> {
  const stamped = await db
    .update(setupLinks)
    .set({ openedAt: now })
    .where(and(eq(setupLinks.id, linkId), isNull(setupLinks.openedAt)))
    .returning({ id: setupLinks.id })
  return stamped.length > 0
}
