import { decodeCursor, encodeCursor } from '../paging.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { type AuditListRow, listAudit } from './repo.ts'

export function auditView({ entry, actorEmail }: AuditListRow) {
  return {
    id: entry.id,
    at: entry.createdAt.toISOString(),
    action: entry.action,
    actor: {
      userId: entry.actorUserId,
      email: actorEmail,
      method: entry.actorMethod,
      setupLinkId: entry.setupLinkId,
    },
    ip: entry.ip,
    changes: entry.changes,
  }
}

/** A workspace's audit trail for its owners and admins (the route has checked the role). */
export function createAuditService(deps: { db: AuthDatabase }) {
  return {
    async list(workspaceId: string, query: { cursor?: string; limit: number }) {
      const rows = await listAudit(deps.db, {
        workspaceId,
        limit: query.limit + 1,
        ...(query.cursor ? { before: decodeCursor(query.cursor) } : {}),
      })
      const page = rows.slice(0, query.limit)
      const last = page.at(-1)
      return {
        entries: page.map(auditView),
        nextCursor:
          rows.length > query.limit && last ? encodeCursor({ at: last.entry.createdAt, id: last.entry.id }) : null,
      }
    },
  }
}

export type AuditService = ReturnType<typeof createAuditService>
