import { executePrepared, rowsOf } from '@gatehouse/db'
import { type LoginSucceeded, outboxInsertFrom } from '@gatehouse/events'
import { eq, sql } from 'drizzle-orm'
import {
  auditLog,
  memberships,
  outbox,
  type StoredSpSigningKey,
  sessions,
  ssoConnections,
  users,
} from '../db/schema.ts'
import type { Executor, NewSession } from '../sessions/repo.ts'

export type ConnectionRow = typeof ssoConnections.$inferSelect

export async function insertConnection(
  db: Executor,
  connection: { id: string; workspaceId: string; spSigningKeys: StoredSpSigningKey[] },
): Promise<ConnectionRow | undefined> {
  const [row] = await db
    .insert(ssoConnections)
    .values(connection)
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

/** The row, locked until the transaction ends: for read-modify-write of its key list. */
export async function lockConnection(db: Executor, connectionId: string): Promise<ConnectionRow | undefined> {
  const [row] = await db.select().from(ssoConnections).where(eq(ssoConnections.id, connectionId)).for('update')
  return row
}

export async function updateConnection(
  db: Executor,
  connectionId: string,
  changes: Partial<Omit<ConnectionRow, 'id' | 'workspaceId' | 'version' | 'createdAt' | 'updatedAt'>>,
): Promise<ConnectionRow> {
  const [row] = await db
    .update(ssoConnections)
    .set({ ...changes, version: sql`${ssoConnections.version} + 1`, updatedAt: new Date() })
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

export type SsoLoginOutcome =
  | { outcome: 'opened'; userId: string }
  | { outcome: 'not_allowed' }
  /** The connection changed (or went) after the response was checked against it. */
  | { outcome: 'connection_changed' }

/**
 * CONTRACT.md's rule, parts 2 and 3, and the login itself in one statement (one round trip): if
 * the connection is still the version the response was checked against, and `email` is a
 * password account with an SSO-allowed membership in the connection's workspace, then its names
 * follow the IdP's claims (written only when they differ, so concurrent logins of one person do
 * not queue on the row lock), and the session and its auth.login.succeeded event — given here
 * without `userId`, which the statement adds — are inserted together.
 */
export async function openSsoSession(
  db: Executor,
  login: {
    connectionId: string
    connectionVersion: number
    email: string
    firstName: string | undefined
    lastName: string | undefined
    session: Omit<NewSession, 'userId'>
    event: LoginSucceeded
  },
): Promise<SsoLoginOutcome> {
  const { session, event } = login
  const firstName = sql`${login.firstName ?? null}::text`
  const lastName = sql`${login.lastName ?? null}::text`
  const at = (date: Date | undefined) => sql`${(date ?? new Date()).toISOString()}::timestamptz`
  const result = await executePrepared(
    db,
    'open_sso_session',
    sql`
    with current_connection as (
      select workspace_id from ${ssoConnections}
      where id = ${login.connectionId}::uuid and version = ${login.connectionVersion} and enabled
    ), eligible as (
      select users.id
      from ${users} as users join ${memberships} as memberships on memberships.user_id = users.id
      where users.email = ${login.email} and users.created_via = 'password'
        and memberships.workspace_id = (select workspace_id from current_connection) and memberships.sso_allowed
    ), renamed as (
      update ${users} set first_name = coalesce(${firstName}, first_name), last_name = coalesce(${lastName}, last_name),
        updated_at = ${at(session.createdAt)}
      where id = (select id from eligible)
        and (first_name is distinct from coalesce(${firstName}, first_name)
          or last_name is distinct from coalesce(${lastName}, last_name))
    ), opened as (
      insert into ${sessions} (user_id, token_hash, method, connection_id, ip, user_agent, created_at, last_seen_at, expires_at)
      select id, ${session.tokenHash}, ${session.method}, ${session.connectionId ?? null}::uuid, ${session.ip ?? null},
        ${session.userAgent ?? null}, ${at(session.createdAt)}, ${at(session.lastSeenAt)}, ${at(session.expiresAt)}
      from eligible
    ), announced as (${outboxInsertFrom(outbox, event, 'eligible', { userId: 'id' })})
    select exists (select 1 from current_connection) as connection_current, (select id from eligible) as user_id`,
  )
  const [row] = rowsOf<{ connection_current: boolean; user_id: string | null }>(result)
  if (!row?.connection_current) return { outcome: 'connection_changed' }
  return row.user_id ? { outcome: 'opened', userId: row.user_id } : { outcome: 'not_allowed' }
}
