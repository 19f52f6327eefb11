import { type Database, executePrepared } from '@gatehouse/db'
import { and, desc, eq, gt, inArray, isNull, notInArray, or, type SQLWrapper, sql } from 'drizzle-orm'
import type * as schema from '../db/schema.ts'
import { sessions, users, workspaces } from '../db/schema.ts'

export type AuthDatabase = Database<typeof schema>
/** A database handle or a transaction: repo functions work inside either. */
export type Executor = Pick<AuthDatabase, 'select' | 'insert' | 'update' | 'delete' | 'execute' | '_'>

export type SessionRow = typeof sessions.$inferSelect
export type NewSession = typeof sessions.$inferInsert
export type UserRow = typeof users.$inferSelect

/**
 * Inserts a session and, in the same statement (a data-modifying CTE), `alongside` — e.g. the
 * login event's outbox INSERT — so both commit together in one round trip on every login.
 */
export async function insertSession(db: Executor, values: NewSession, alongside?: SQLWrapper): Promise<void> {
  const insert = db.insert(sessions).values(values)
  if (alongside) {
    await executePrepared(
      db,
      'insert_session_with',
      sql`with opened_session as (${insert.getSQL()}) ${alongside.getSQL()}`,
    )
  } else await insert
}

/**
 * The live sessions among these token hashes, with their user: not revoked, not past either
 * expiry. The hashes travel as one JSON parameter, so the statement is prepared once whatever
 * their number.
 */
export async function findLiveSessions(db: Executor, tokenHashes: string[], idleSince: Date, now: Date) {
  return db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        sql`${sessions.tokenHash} in (select jsonb_array_elements_text(${JSON.stringify(tokenHashes)}::jsonb))`,
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        gt(sessions.lastSeenAt, idleSince),
      ),
    )
    .prepare('find_live_sessions')
    .execute()
}

export async function touchSessions(db: Executor, sessionIds: string[], now: Date): Promise<void> {
  await db.update(sessions).set({ lastSeenAt: now }).where(inArray(sessions.id, sessionIds))
}

export type EndedSession = Pick<SessionRow, 'id' | 'userId' | 'method' | 'workspaceId' | 'connectionId' | 'tokenHash'>
export const endedColumns = {
  id: sessions.id,
  tokenHash: sessions.tokenHash,
  userId: sessions.userId,
  method: sessions.method,
  workspaceId: sessions.workspaceId,
  connectionId: sessions.connectionId,
}

export async function revokeSessions(db: Executor, sessionIds: string[], now: Date): Promise<EndedSession[]> {
  if (sessionIds.length === 0) return []
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(inArray(sessions.id, sessionIds), isNull(sessions.revokedAt)))
    .returning(endedColumns)
}

/**
 * Whether the session is still live, holding it so until the transaction ends: what the session
 * does in the transaction then commits before anything ends it (revoking waits for the lock), or
 * not at all. The check made when the request began no longer holds by the time it writes.
 */
export async function holdLiveSession(db: Executor, sessionId: string, now: Date): Promise<boolean> {
  const rows = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(
      and(
        eq(sessions.id, sessionId),
        isNull(sessions.revokedAt),
        sql`${sessions.expiresAt} > ${now.toISOString()}::timestamptz`,
      ),
    )
    .for('share')
  return rows.length > 0
}

/**
 * Ends the live sessions a connection opened: all of them (it was turned off, re-pointed or
 * deleted), or, given `signedBy`, those whose sign-in that certificate signed (it was removed) and
 * those that do not say which certificate signed them.
 */
export async function revokeConnectionSessions(
  db: Executor,
  connectionId: string,
  now: Date,
  signedBy?: string,
): Promise<EndedSession[]> {
  const signedByIt =
    signedBy === undefined
      ? undefined
      : or(eq(sessions.signingCertificateFingerprint, signedBy), isNull(sessions.signingCertificateFingerprint))
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(
      and(eq(sessions.connectionId, connectionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now), signedByIt),
    )
    .returning(endedColumns)
}

export async function markReauthenticated(db: Executor, sessionIds: string[], now: Date): Promise<void> {
  await db.update(sessions).set({ reauthenticatedAt: now }).where(inArray(sessions.id, sessionIds))
}

/** Lets this password session reach a workspace that requires SSO: the owner's recovery. */
export async function markRecovery(db: Executor, sessionId: string, workspaceId: string): Promise<void> {
  await db.update(sessions).set({ recoveryWorkspaceId: workspaceId }).where(eq(sessions.id, sessionId))
}

/** Live means not revoked and past neither expiry: the condition findLiveSessions applies too. */
const liveFor = (userId: string, idleSince: Date, now: Date) =>
  and(
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
    gt(sessions.lastSeenAt, idleSince),
  )

/** A person's live sessions, newest first, with the workspace a SAML one reaches (bounded: a page). */
export async function listLiveSessions(db: Executor, userId: string, idleSince: Date, now: Date, limit = 200) {
  return db
    .select({ session: sessions, workspaceName: workspaces.name })
    .from(sessions)
    .leftJoin(workspaces, eq(workspaces.id, sessions.workspaceId))
    .where(liveFor(userId, idleSince, now))
    .orderBy(desc(sessions.createdAt), desc(sessions.id))
    .limit(limit)
}

/** Ends the person's live sessions: those named (`only`), or all but those named (`except`). */
export async function revokeUserSessions(
  db: Executor,
  userId: string,
  select: { only: string[] } | { except: string[] },
  idleSince: Date,
  now: Date,
): Promise<EndedSession[]> {
  const which = 'only' in select ? inArray(sessions.id, select.only) : notInArray(sessions.id, select.except)
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(liveFor(userId, idleSince, now), which))
    .returning(endedColumns)
}

/**
 * Spends a session's end link (the email of a first sign-in through an IdP): the link is cleared
 * whatever the session's state, and the session ends if it was still live. The session that
 * ended, or undefined (no such link, already used, or the session had ended anyway).
 */
export async function endSessionByLink(
  db: Executor,
  endLinkHash: string,
  now: Date,
): Promise<EndedSession | undefined> {
  const [spent] = await db
    .update(sessions)
    .set({ endLinkHash: null, revokedAt: sql`coalesce(${sessions.revokedAt}, ${now.toISOString()}::timestamptz)` })
    .where(eq(sessions.endLinkHash, endLinkHash))
    .returning({ ...endedColumns, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
  if (!spent || spent.revokedAt?.getTime() !== now.getTime() || spent.expiresAt <= now) return undefined
  const { revokedAt: _revokedAt, expiresAt: _expiresAt, ...ended } = spent
  return ended
}
