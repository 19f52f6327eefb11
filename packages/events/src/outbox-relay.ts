// Moves committed outbox rows to Redis. Runs in every replica: `FOR UPDATE SKIP LOCKED` gives each
// relay its own rows, and a row is marked published in the same transaction that claimed it, only
// after Redis accepted it. A crash in between leaves the row unpublished; it is published again,
// and the event id (job id / stream marker) makes the second publication a no-op.
import type { Database } from '@gatehouse/db'
import { closeRedis, createRedis, RedisUnavailableError } from '@gatehouse/server/redis'
import { withTimeout } from '@gatehouse/server/timeout'
import type { Queue } from 'bullmq'
import { and, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm'
import { appendToStream } from './auth-stream.ts'
import { logBullmqProblems } from './bullmq-log.ts'
import { destinations } from './destinations.ts'
import { type EventType, type GatehouseEvent, isEventType } from './event-schemas.ts'
import { createInvitationQueue, publishToQueue } from './invitation-queue.ts'
import { defaultLog, type EventsLog } from './log.ts'
import type { OutboxTable } from './outbox-table.ts'
import { startPollLoop } from './poll-loop.ts'

export interface OutboxRelayOptions {
  // biome-ignore lint/suspicious/noExplicitAny: the relay works with any service's schema.
  db: Database<any>
  table: OutboxTable
  redisUrl: string
  log?: EventsLog
  /** How often to look for rows nobody woke the relay for (another replica's, or after a crash). */
  pollIntervalMs?: number
  /** Rows claimed, published and marked per transaction. */
  batchSize?: number
  /** Published rows are deleted after this long (they are kept for inspection, not for delivery). */
  retainPublishedMs?: number
  /** A Redis call slower than this fails the batch, which is retried. */
  publishTimeoutMs?: number
  /** Overrides of the destinations' names, for tests and side-by-side deployments. */
  queueName?: string
  streamName?: string
  /** Called on each failed batch (Redis down or slow, a publish refused): for a metrics counter. */
  onPublishError?: (error: unknown) => void
}

export interface OutboxRelay {
  /** Publish now: call after committing a transaction that wrote events. */
  wake(): void
  /** Finishes the batch in progress and disconnects. */
  stop(): Promise<void>
}

interface ClaimedRow {
  id: string
  type: EventType
  json: string
}

const pruneIntervalMs = 60_000
const pruneBatchSize = 5_000

export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, table } = options
  const log = options.log ?? defaultLog
  const pollIntervalMs = options.pollIntervalMs ?? 1_000
  const batchSize = options.batchSize ?? 500
  const retainPublishedMs = options.retainPublishedMs ?? 7 * 24 * 60 * 60 * 1_000
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000
  const streamName = options.streamName ?? destinations['auth.login.succeeded'].name
  const queueName = options.queueName ?? destinations['invitation.accepted'].name
  const redis = createRedis(options.redisUrl, { role: 'failFast', log: log, name: 'gatehouse-outbox-relay' })
  // Made on first use and remade after a failure: a BullMQ queue whose connection failed while it
  // was initialising stays broken.
  let queue: Queue | undefined
  const skippedRowIds = new Set<string>()

  async function publish(rows: ClaimedRow[]): Promise<void> {
    const queued = rows.filter((row) => destinations[row.type].kind === 'queue')
    const streamed = rows.filter((row) => destinations[row.type].kind === 'stream')
    try {
      if (queued.length > 0) {
        if (!queue) {
          queue = createInvitationQueue(redis, queueName)
          logBullmqProblems(queue, { log, connection: redis })
        }
        await publishToQueue(
          queue,
          queued.map((row) => JSON.parse(row.json) as GatehouseEvent),
        )
      }
      await appendToStream(redis, streamName, streamed)
    } catch (error) {
      const broken = queue
      queue = undefined
      await broken?.close().catch(() => {})
      throw error
    }
  }

  async function relayBatch(): Promise<number> {
    // Checked before claiming, so an outage costs no database work and holds no row locks.
    if (redis.status !== 'ready') throw new RedisUnavailableError(`redis is ${redis.status}`)
    return db.transaction(async (tx) => {
      // Claim and mark in one statement; the marks become visible only if the transaction
      // commits, which it does only after Redis has accepted the events.
      const claimed = tx
        .select({ id: table.id })
        .from(table)
        .where(isNull(table.publishedAt))
        .orderBy(table.position)
        .limit(batchSize)
        .for('update', { skipLocked: true })
      // The event as text: it was validated when written, and goes to Redis as JSON text anyway.
      const rows = await tx
        .update(table)
        .set({ publishedAt: sql`now()` })
        .where(inArray(table.id, claimed))
        .returning({
          id: table.id,
          position: table.position,
          type: table.type,
          json: sql<string>`${table.event}::text`,
        })
      if (rows.length === 0) return 0
      rows.sort((a, b) => a.position - b.position)
      const routable: ClaimedRow[] = []
      const unroutable: string[] = []
      for (const row of rows) {
        if (isEventType(row.type)) routable.push({ id: row.id, type: row.type, json: row.json })
        else unroutable.push(row.id)
      }
      if (unroutable.length > 0) {
        // Rows of a newer release's event type (a rolling deploy): left for a relay that knows them.
        reportUnroutable(unroutable)
        await tx.update(table).set({ publishedAt: null }).where(inArray(table.id, unroutable))
      }
      await withTimeout(
        publish(routable),
        publishTimeoutMs,
        () => new RedisUnavailableError(`redis did not answer within ${publishTimeoutMs} ms`),
      )
      return routable.length
    })
  }

  function reportUnroutable(ids: string[]): void {
    for (const id of ids) {
      if (skippedRowIds.has(id)) continue
      if (skippedRowIds.size > 10_000) skippedRowIds.clear()
      skippedRowIds.add(id)
      log.warn({ outboxId: id }, 'outbox row of an unknown event type left unpublished')
    }
  }

  async function prunePublished(): Promise<void> {
    const cutoff = new Date(Date.now() - retainPublishedMs)
    const expired = db
      .select({ id: table.id })
      .from(table)
      .where(and(isNotNull(table.publishedAt), lt(table.publishedAt, cutoff)))
      .limit(pruneBatchSize)
    await db.delete(table).where(inArray(table.id, expired))
  }

  let nextPruneAt = Date.now() + pruneIntervalMs
  const loop = startPollLoop({
    name: 'outbox relay',
    log,
    pollIntervalMs,
    // At start-up the Redis connection is still being made: only a lasting failure is worth a line.
    startupFailuresUnlogged: 10,
    async step() {
      const relayed = await relayBatch()
      if (Date.now() >= nextPruneAt) {
        nextPruneAt = Date.now() + pruneIntervalMs
        await prunePublished()
      }
      return relayed === batchSize
    },
    onFailure: (error) => options.onPublishError?.(error),
  })

  return {
    wake: loop.wake,
    async stop() {
      await loop.stop()
      await queue?.close().catch(() => {})
      await closeRedis(redis)
    },
  }
}
