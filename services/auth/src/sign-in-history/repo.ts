import { and, desc, eq, lt, or, sql } from 'drizzle-orm'
import { signInHistory } from '../db/schema.ts'
import type { PagePosition } from '../paging.ts'
import type { Executor } from '../sessions/repo.ts'

export type SignInRow = typeof signInHistory.$inferSelect
export type NewSignIn = typeof signInHistory.$inferInsert

/** Idempotent on the event id: a redelivered event (a consumer died before acknowledging) is a no-op. */
export async function insertSignIn(db: Executor, row: NewSignIn): Promise<void> {
  await db.insert(signInHistory).values(row).onConflictDoNothing({ target: signInHistory.eventId })
}

/** Newest first, strictly after `before` in that order (keyset paging), within `since`. */
export async function listSignIns(
  db: Executor,
  query: { workspaceId: string; since: Date; before?: PagePosition; reference?: string; limit: number },
): Promise<SignInRow[]> {
  const { before, reference } = query
  return db
    .select()
    .from(signInHistory)
    .where(
      and(
        eq(signInHistory.workspaceId, query.workspaceId),
        sql`${signInHistory.occurredAt} > ${query.since.toISOString()}::timestamptz`,
        before &&
          sql`(${signInHistory.occurredAt}, ${signInHistory.eventId}) < (${before.at.toISOString()}::timestamptz, ${before.id}::uuid)`,
        // A whole reference (saml_invalid/issuer_mismatch) or just its code (saml_invalid).
        reference === undefined
          ? undefined
          : or(eq(signInHistory.reference, reference), eq(signInHistory.code, reference)),
      ),
    )
    .orderBy(desc(signInHistory.occurredAt), desc(signInHistory.eventId))
    .limit(query.limit)
}

/** How many sign-ins a workspace had since `since`, and how many of them its IdP settings refused. */
export async function countRecentOutcomes(
  db: Executor,
  workspaceId: string,
  since: Date,
  refusedCodes: readonly string[],
): Promise<{ attempts: number; refused: number }> {
  const [row] = await db
    .select({
      attempts: sql<number>`count(*)::int`,
      refused: sql<number>`(count(*) filter (where ${signInHistory.code} in (${sql.join(
        refusedCodes.map((code) => sql`${code}`),
        sql`, `,
      )})))::int`,
    })
    .from(signInHistory)
    .where(
      and(
        eq(signInHistory.workspaceId, workspaceId),
        sql`${signInHistory.occurredAt} > ${since.toISOString()}::timestamptz`,
      ),
    )
  return { attempts: row?.attempts ?? 0, refused: row?.refused ?? 0 }
}

/** The newest sign-in of the workspace matching `outcome` (and `code`), within `since`. */
export async function latestSignIn(
  db: Executor,
  workspaceId: string,
  since: Date,
  filter: { outcome: 'succeeded' | 'failed'; codes?: readonly string[] },
): Promise<SignInRow | undefined> {
  const [row] = await db
    .select()
    .from(signInHistory)
    .where(
      and(
        eq(signInHistory.workspaceId, workspaceId),
        eq(signInHistory.outcome, filter.outcome),
        filter.codes &&
          sql`${signInHistory.code} in (${sql.join(
            filter.codes.map((code) => sql`${code}`),
            sql`, `,
          )})`,
        sql`${signInHistory.occurredAt} > ${since.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(desc(signInHistory.occurredAt))
    .limit(1)
  return row
}

/** Deletes the rows older than `before`; returns how many went. */
export async function pruneSignIns(db: Executor, before: Date): Promise<number> {
  const deleted = await db
    .delete(signInHistory)
    .where(lt(signInHistory.occurredAt, before))
    .returning({ eventId: signInHistory.eventId })
  return deleted.length
}
