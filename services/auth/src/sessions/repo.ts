import { type Database, executePrepared } from '@gatehouse/db'
import { and, eq, gt, isNull, type SQLWrapper, sql } from 'drizzle-orm'
import type * as schema from '../db/schema.ts'
import { sessions, users } from '../db/schema.ts'

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

/** The live session with this token hash and its user: not revoked, not past either expiry. */
export async function findLiveSession(db: Executor, tokenHash: string, idleSince: Date, now: Date) {
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.tokenHash, tokenHash),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        gt(sessions.lastSeenAt, idleSince),
      ),
    )
    .limit(1)
    .prepare('find_live_session')
    .execute()
  return row
}

export async function touchSession(db: Executor, sessionId: string, now: Date): Promise<void> {
  await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, sessionId))
}

export async function revokeSession(db: Executor, sessionId: string, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
}
