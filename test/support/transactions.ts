// How a test forces two transactions to interleave: it holds locks of its own in an open
// transaction, and waits until the transactions under test queue behind them.
import { rowsOf } from '@gatehouse/db'
import { eventually } from '@gatehouse/testing'

/**
 * Runs `hold` in a transaction of the test's own and keeps it open (its locks held) until the
 * returned function is called, which rolls it back.
 */
export async function holdInTransaction<Transaction extends { rollback(): never }>(
  db: { transaction(run: (tx: Transaction) => Promise<void>): Promise<unknown> },
  hold: (tx: Transaction) => Promise<unknown>,
) {
  const released = Promise.withResolvers<void>()
  const holding = Promise.withResolvers<void>()
  const done = db
    .transaction(async (tx) => {
      await hold(tx)
      holding.resolve()
      await released.promise
      tx.rollback()
    })
    .catch(() => {})
  await holding.promise
  return async () => {
    released.resolve()
    await done
  }
}

/** Until `count` other sessions of the database wait for a lock. */
export function lockWaiters(db: { execute(query: string): Promise<unknown> }, count: number) {
  return eventually(
    `${count} transactions to wait for a lock`,
    async () => {
      const waiting = await db.execute(`select 1 from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`)
      return rowsOf(waiting).length >= count ? true : undefined
    },
    { timeoutMs: 10_000, intervalMs: 10 },
  )
}
