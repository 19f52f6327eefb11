import { type SQL, sql } from 'drizzle-orm'
import { auditLog } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

/**
 * Who made a change: the person (null for the system), how they were authenticated, and from which
 * address. A setup link's holder acts under the authority of the owner who created the link
 * (`userId`), with `setupLinkId` naming the link.
 */
export interface AuditActor {
  userId: string | null
  method: 'password' | 'saml' | 'setup_link' | 'system'
  ip: string | null
  setupLinkId?: string
}

export interface AuditEntry {
  workspaceId: string
  actor: AuditActor
  /** `<area>.<verb>`: `sso.idp_configured`, `domain.verified`, `invitation.created`, `member.role_changed`… */
  action: string
  /** What changed: new values, ids and fingerprints; never a certificate, token or password. */
  changes: Record<string, unknown>
  /** For rows written by an event consumer: the event, so a redelivery writes nothing twice. */
  eventId?: string
  /** When the change was made, if not now (an event's `occurredAt`). */
  at?: Date
}

/**
 * Adds to a workspace's audit trail. Call it with the transaction that makes the change, so the
 * change and its row commit (or roll back) together; a change made in one statement takes its row
 * from auditRowFor instead. Both build the row the same way (auditRow).
 */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  const values = auditRow(entry)
  if (entry.eventId === undefined) await db.insert(auditLog).values(values)
  else await db.insert(auditLog).values(values).onConflictDoNothing({ target: auditLog.eventId })
}

/**
 * recordAudit's row as a part of a change made in one statement: inserts `entry` once for each row
 * of `change` (the name of a common table expression before it), so the change and its row commit
 * together without a transaction of their own. For an entry without an event id.
 */
export function auditRowFor(change: SQL, entry: AuditEntry & { eventId?: undefined }): SQL {
  const row = auditRow(entry)
  return sql`insert into ${auditLog} (workspace_id, actor_user_id, actor_method, setup_link_id, ip, action, changes, created_at)
    select ${row.workspaceId}::uuid, ${row.actorUserId}::uuid, ${row.actorMethod}, ${row.setupLinkId}::uuid, ${row.ip},
      ${row.action}, ${JSON.stringify(row.changes)}::jsonb, coalesce(${entry.at?.toISOString() ?? null}::timestamptz, now())
    from ${change}`
}

function auditRow(entry: AuditEntry) {
  const { actor, at, ...row } = entry
  return {
    ...row,
    ...(at ? { createdAt: at } : {}),
    actorUserId: actor.userId,
    actorMethod: actor.method,
    setupLinkId: actor.setupLinkId ?? null,
    ip: actor.ip,
  }
}
