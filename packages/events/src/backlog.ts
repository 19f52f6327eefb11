// What is waiting to leave or to be handled, read when Prometheus scrapes: rows the outbox relay
// has not published, and jobs in BullMQ queues. Both are shared by every replica, so each process
// reports the same figures (dashboards take the max).
import type { Database } from '@gatehouse/db'
import type { Metrics } from '@gatehouse/server/http'
import { RedisUnavailableError } from '@gatehouse/server/redis'
import { Queue } from 'bullmq'
import { isNull, sql } from 'drizzle-orm'
import type { Redis } from 'ioredis'
import type { OutboxTable } from './outbox-table.ts'

export interface OutboxBacklog {
  waiting: number
  /** Seconds since the oldest unpublished row was written; 0 when none waits. */
  oldestAgeSeconds: number
}

// biome-ignore lint/suspicious/noExplicitAny: any service's schema holds an outbox.
export async function outboxBacklog(db: Database<any>, table: OutboxTable): Promise<OutboxBacklog> {
  const [row] = await db
    .select({
      waiting: sql<number>`count(*)::int`,
      oldestAgeSeconds: sql<number>`coalesce(extract(epoch from now() - min(${table.createdAt})), 0)::float8`,
    })
    .from(table)
    .where(isNull(table.publishedAt))
  return { waiting: row?.waiting ?? 0, oldestAgeSeconds: row?.oldestAgeSeconds ?? 0 }
}

export const queueStates = ['waiting', 'active', 'delayed', 'failed'] as const

export interface QueueJobCounts {
  /** One figure per queue and state, e.g. `{ labels: { queue: 'invitation-events', state: 'failed' }, value: 0 }`. */
  read(): Promise<Array<{ labels: { queue: string; state: string }; value: number }>>
  close(): Promise<void>
}

/** Job counts of the named queues over `redis` (a fail-fast client: a scrape must not hang). */
export function queueJobCounts(redis: Redis, names: readonly string[]): QueueJobCounts {
  // Made once Redis has answered: a BullMQ queue made on a connection that never comes up waits
  // for it when closed, and the app would never finish closing.
  let queues: Queue[] | undefined
  return {
    async read() {
      if (redis.status !== 'ready') throw new RedisUnavailableError(`redis is ${redis.status}`)
      queues ??= names.map((name) => {
        const queue = new Queue(name, { connection: redis })
        // A failed scrape answers for itself, and the connection logs its outage (createRedis);
        // without a listener BullMQ would print each connection error's stack to stderr.
        queue.on('error', () => {})
        return queue
      })
      const current = queues
      const perQueue = await Promise.all(current.map((queue) => queue.getJobCounts(...queueStates)))
      return current.flatMap((queue, index) =>
        queueStates.map((state) => ({ labels: { queue: queue.name, state }, value: perQueue[index]?.[state] ?? 0 })),
      )
    },
    async close() {
      await Promise.all((queues ?? []).map((queue) => queue.close().catch(() => {})))
    },
  }
}

export interface EventBacklogMetrics {
  /** Counts a failed relay batch: pass as the relay's `onPublishError`. */
  publishFailed(): void
  close(): Promise<void>
}

/**
 * A service's event series: outbox rows waiting and the oldest one's age, relay publish errors,
 * and the jobs of the queues it works on (`gatehouse_queue_jobs{queue, state}`).
 */
export function observeEventBacklog(
  metrics: Metrics,
  // biome-ignore lint/suspicious/noExplicitAny: any service's schema holds an outbox.
  options: { db: Database<any>; outbox: OutboxTable; redis: Redis; queues: readonly string[] },
): EventBacklogMetrics {
  const backlog = () => outboxBacklog(options.db, options.outbox)
  metrics.sampledGauge({
    name: 'gatehouse_outbox_waiting_rows',
    help: 'Outbox rows not yet published to Redis.',
    sample: async () => [{ value: (await backlog()).waiting }],
  })
  metrics.sampledGauge({
    name: 'gatehouse_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox row not yet published (0 when none waits).',
    sample: async () => [{ value: (await backlog()).oldestAgeSeconds }],
  })
  const publishErrors = metrics.counter({
    name: 'gatehouse_outbox_publish_errors_total',
    help: 'Outbox relay batches that failed to publish (Redis down or slow); they are retried.',
    labelNames: [],
  })
  const jobs = queueJobCounts(options.redis, options.queues)
  metrics.sampledGauge({
    name: 'gatehouse_queue_jobs',
    help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed).',
    labelNames: ['queue', 'state'],
    sample: () => jobs.read(),
  })
  return { publishFailed: () => publishErrors.inc(), close: () => jobs.close() }
}
