import { and, desc, eq, sql } from 'drizzle-orm'
import { auditLog, users } from '../db/schema.ts'
import type { PagePosition } from '../paging.ts'
import type { Executor } from '../sessions/repo.ts'

/** A workspace's audit rows with the acting person's email, newest first, strictly after `before`. */
export async function listAudit(db: Executor, query: { workspaceId: string; before?: PagePosition; limit: number }) {
  const { before } = query
  return db
    .select({ entry: auditLog, actorEmail: users.email })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorUserId))
    .where(
      and(
        eq(auditLog.workspaceId, query.workspaceId),
        before &&
          sql`(${auditLog.createdAt}, ${auditLog.id}) < (${before.at.toISOString()}::timestamptz, ${before.id}::uuid)`,
      ),
    )
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(query.limit)
}

export type AuditListRow = Awaited<ReturnType<typeof listAudit>>[number]
