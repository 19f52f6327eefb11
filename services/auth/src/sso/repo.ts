import { preparedStatement, rowsOf } from '@gatehouse/db'
import {
  type LoginSucceeded,
  outboxInsertFromPlaceholders,
  outboxPlaceholderValues,
  type SsoFirstSignIn,
} from '@gatehouse/events'
import { and, eq, gt, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import {
  certificateExpiryNotices,
  memberships,
  outbox,
  type StoredSpSigningKey,
  sessions,
  ssoConnections,
  ssoFirstSignIns,
  users,
  workspaces,
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

/**
 * What a metadata refresh learnt that changes no SAML check (when it read the URL, what is wrong):
 * written without bumping `version`, so the logins' cached copies stay good.
 */
export async function recordMetadataCheck(
  db: Executor,
  connectionId: string,
  check: Pick<ConnectionRow, 'idpMetadataCheckedAt' | 'idpMetadataProblem'> &
    Partial<Pick<ConnectionRow, 'idpMetadataReadAt'>>,
): Promise<void> {
  await db.update(ssoConnections).set(check).where(eq(ssoConnections.id, connectionId))
}

/**
 * Connections whose IdP metadata is read from a URL and was last read before `checkedBefore` (or
 * never), a page at a time (by id).
 */
export async function listMetadataUrlConnections(
  db: Executor,
  checkedBefore: Date,
  afterId: string | null,
  limit: number,
) {
  return db
    .select({ id: ssoConnections.id })
    .from(ssoConnections)
    .where(
      and(
        isNotNull(ssoConnections.idpMetadataUrl),
        or(isNull(ssoConnections.idpMetadataCheckedAt), lt(ssoConnections.idpMetadataCheckedAt, checkedBefore)),
        afterId ? gt(ssoConnections.id, afterId) : undefined,
      ),
    )
    .orderBy(ssoConnections.id)
    .limit(limit)
}

/** Configured connections with their IdP certificates, a page at a time (by id): expiry notices. */
export async function listConnectionCertificates(db: Executor, afterId: string | null, limit: number) {
  return db
    .select({
      id: ssoConnections.id,
      workspaceId: ssoConnections.workspaceId,
      certificates: ssoConnections.idpCertificates,
    })
    .from(ssoConnections)
    .where(and(isNotNull(ssoConnections.idpCertificates), afterId ? gt(ssoConnections.id, afterId) : undefined))
    .orderBy(ssoConnections.id)
    .limit(limit)
}

/** Records an expiry notice; false when this certificate's threshold was already announced. */
export async function insertExpiryNotice(
  db: Executor,
  notice: typeof certificateExpiryNotices.$inferInsert,
): Promise<boolean> {
  const written = await db
    .insert(certificateExpiryNotices)
    .values(notice)
    .onConflictDoNothing()
    .returning({ connectionId: certificateExpiryNotices.connectionId })
  return written.length > 0
}

export async function deleteConnection(db: Executor, connectionId: string): Promise<void> {
  await db.delete(ssoConnections).where(eq(ssoConnections.id, connectionId))
}

/**
 * Who hears about a change to a workspace's SSO: its owners (`ownerEmails`), and for an owner's
 * recovery the other owners and the admins (`othersToTell`); and the workspace's name to tell them.
 */
export async function findOwnerAudience(db: Executor, workspaceId: string) {
  const rows = await db
    .select({ workspaceName: workspaces.name, userId: users.id, email: users.email, role: memberships.role })
    .from(workspaces)
    .innerJoin(
      memberships,
      and(eq(memberships.workspaceId, workspaces.id), inArray(memberships.role, ['owner', 'admin'])),
    )
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(workspaces.id, workspaceId))
  return {
    workspaceName: rows[0]?.workspaceName ?? '',
    ownerEmails: rows.filter((row) => row.role === 'owner').map((row) => row.email),
    ownerAndAdminEmails: rows.map((row) => row.email),
    othersToTell: (userId: string) => rows.filter((row) => row.userId !== userId).map((row) => row.email),
  }
}

/**
 * CONTRACT.md's rule, parts 2 and 3, without signing in (an unsolicited response waits for the
 * person's confirmation first): whether `email` may use SSO through the connection as it is at
 * `connectionVersion`, and the workspace's name to show.
 */
export async function findSsoEligibility(
  db: Executor,
  login: { connectionId: string; connectionVersion: number; email: string },
): Promise<
  { outcome: 'eligible'; userId: string; workspaceName: string } | { outcome: 'not_allowed' | 'connection_changed' }
> {
  const result = await db.execute(sql`
    with current_connection as (
      select workspace_id from ${ssoConnections}
      where id = ${login.connectionId}::uuid and version = ${login.connectionVersion} and enabled
    )
    select exists (select 1 from current_connection) as connection_current,
      (select users.id from ${users} as users join ${memberships} as memberships on memberships.user_id = users.id
        where users.email = ${login.email} and users.created_via = 'password'
          and users.email_confirmed_at is not null and memberships.sso_allowed
          and memberships.workspace_id = (select workspace_id from current_connection)) as user_id,
      (select name from ${workspaces} where id = (select workspace_id from current_connection)) as workspace_name`)
  const [row] = rowsOf<{ connection_current: boolean; user_id: string | null; workspace_name: string | null }>(result)
  if (!row?.connection_current) return { outcome: 'connection_changed' }
  return row.user_id
    ? { outcome: 'eligible', userId: row.user_id, workspaceName: row.workspace_name ?? '' }
    : { outcome: 'not_allowed' }
}

export type SsoLoginOutcome =
  | { outcome: 'opened'; userId: string }
  | { outcome: 'not_allowed' }
  /** The connection changed (or went) after the response was checked against it. */
  | { outcome: 'connection_changed' }

/**
 * CONTRACT.md's rule, parts 2 and 3, and the login itself in one statement (one round trip): if
 * the connection is still the version the response was checked against, and `email` is a
 * password account whose address is proven, with an SSO-allowed membership in the connection's workspace, then its names
 * in that workspace follow the IdP's claims (on the membership, never the account: one
 * workspace's IdP speaks for that workspace alone; written only when they differ, so concurrent
 * logins of one person do not queue on the row lock), and the session and its auth.login.succeeded event — given here
 * without `userId`, which the statement adds — are inserted together. When this IdP (connection
 * and Entity ID) never signed the person in before, the same statement records that it now has,
 * gives the session `firstSignIn.endLinkHash` and announces `firstSignIn.event` (the statement adds
 * `userId` and `workspaceName`); the first of two concurrent sign-ins wins the record.
 */
export async function openSsoSession(
  db: Executor,
  login: {
    connectionId: string
    connectionVersion: number
    email: string
    firstName: string | undefined
    lastName: string | undefined
    session: Omit<NewSession, 'userId'> & { id: string }
    event: LoginSucceeded
    firstSignIn: { endLinkHash: string; event: SsoFirstSignIn }
  },
): Promise<SsoLoginOutcome> {
  const { session, event, firstSignIn } = login
  const at = (date: Date | undefined) => (date ?? new Date()).toISOString()
  const result = await openSsoSessionStatement(db, {
    connectionId: login.connectionId,
    connectionVersion: login.connectionVersion,
    email: login.email,
    firstName: login.firstName ?? null,
    lastName: login.lastName ?? null,
    sessionId: session.id,
    tokenHash: session.tokenHash,
    method: session.method,
    sessionConnectionId: session.connectionId ?? null,
    ip: session.ip ?? null,
    userAgent: session.userAgent ?? null,
    createdAt: at(session.createdAt),
    lastSeenAt: at(session.lastSeenAt),
    expiresAt: at(session.expiresAt),
    endLinkHash: firstSignIn.endLinkHash,
    signingCertificateFingerprint: session.signingCertificateFingerprint ?? null,
    ...outboxPlaceholderValues(event, 'signedIn'),
    ...outboxPlaceholderValues(firstSignIn.event, 'firstSignIn'),
  })
  const [row] = rowsOf<{ connection_current: boolean; user_id: string | null }>(result)
  if (!row?.connection_current) return { outcome: 'connection_changed' }
  return row.user_id ? { outcome: 'opened', userId: row.user_id } : { outcome: 'not_allowed' }
}

// Composed once (its values are placeholders): composing it at each sign-in cost auth more CPU
// than Postgres spends running it.
const value = (name: string) => sql.placeholder(name)
const firstName = sql`${value('firstName')}::text`
const lastName = sql`${value('lastName')}::text`
const openSsoSessionStatement = preparedStatement(
  'open_sso_session',
  sql`
    with current_connection as (
      select workspace_id, idp_entity_id from ${ssoConnections}
      where id = ${value('connectionId')}::uuid and version = ${value('connectionVersion')} and enabled
    ), eligible as (
      select users.id
      from ${users} as users join ${memberships} as memberships on memberships.user_id = users.id
      where users.email = ${value('email')} and users.created_via = 'password' and users.email_confirmed_at is not null
        and memberships.workspace_id = (select workspace_id from current_connection) and memberships.sso_allowed
      -- A removal (memberships/service.ts) deletes this row: the share lock makes it wait for this
      -- login to commit and then end the session it opened, or this login wait for the removal and
      -- find no row. Logins of one person do not block each other.
      for key share of memberships
    ), first_use as (
      insert into ${ssoFirstSignIns} (user_id, connection_id, idp_entity_id)
      select id, ${value('connectionId')}::uuid, coalesce((select idp_entity_id from current_connection), '') from eligible
      on conflict do nothing
      returning user_id
    ), named as (
      update ${memberships} set idp_first_name = coalesce(${firstName}, idp_first_name),
        idp_last_name = coalesce(${lastName}, idp_last_name)
      where user_id = (select id from eligible) and workspace_id = (select workspace_id from current_connection)
        and (idp_first_name is distinct from coalesce(${firstName}, idp_first_name)
          or idp_last_name is distinct from coalesce(${lastName}, idp_last_name))
    ), opened as (
      insert into ${sessions} (id, user_id, token_hash, method, connection_id, workspace_id, ip, user_agent, created_at, last_seen_at, expires_at, end_link_hash, signing_certificate_fingerprint)
      select ${value('sessionId')}::uuid, id, ${value('tokenHash')}, ${value('method')}, ${value('sessionConnectionId')}::uuid,
        (select workspace_id from current_connection), ${value('ip')},
        ${value('userAgent')}, ${value('createdAt')}::timestamptz, ${value('lastSeenAt')}::timestamptz, ${value('expiresAt')}::timestamptz,
        (select ${value('endLinkHash')}::text from first_use), ${value('signingCertificateFingerprint')}::text
      from eligible
    ), announced as (${outboxInsertFromPlaceholders(outbox, 'auth.login.succeeded', 'signedIn', 'eligible', { userId: 'id' })}
    ), first_signed_in as (
      select user_id, (select name from ${workspaces} where id = (select workspace_id from current_connection)) as workspace_name
      from first_use
    ), first_announced as (${outboxInsertFromPlaceholders(outbox, 'sso.first_sign_in', 'firstSignIn', 'first_signed_in', { userId: 'user_id', workspaceName: 'workspace_name' })})
    select exists (select 1 from current_connection) as connection_current, (select id from eligible) as user_id`,
)
