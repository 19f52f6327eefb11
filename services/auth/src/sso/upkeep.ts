// The SSO upkeep that runs on a clock: the IdP metadata refresh (every 12 hours) and the
// certificate expiry notices (every hour), as BullMQ job schedulers on the `sso-upkeep` queue.
// Every worker process upserts the same two schedulers (one schedule, however many replicas), and
// BullMQ hands each run to one worker; both jobs are safe to run twice or at once on two replicas
// (a refresh locks its connection row, a notice is a row with a primary key), so a run that failed
// (Postgres away a moment) is tried again after a back-off instead of waiting for the next run.
import { type EventsLog, logBullmqProblems } from '@gatehouse/events'
import { failureFields } from '@gatehouse/server/failures'
import { closeRedis, createRedis } from '@gatehouse/server/redis'
import { Queue, Worker } from 'bullmq'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { CertificateExpiryNotices } from './certificate-expiry.ts'
import type { MetadataRefresh } from './metadata-refresh.ts'
import { listMetadataUrlConnections } from './repo.ts'

export const ssoUpkeepQueue = 'sso-upkeep'

/** The queue's jobs; the schedulers carry the same names. */
export const ssoUpkeepJobs = {
  metadataRefresh: 'metadata-refresh',
  certificateExpiry: 'certificate-expiry',
} as const

export const metadataRefreshEveryMs = 12 * 60 * 60 * 1000
export const expiryCheckEveryMs = 60 * 60 * 1000
// A failed run is tried again after 1, 2, 4 and 8 minutes: a database restart or failover is
// ridden out within a quarter of an hour, well before the next run (the refresh's is 12 hours away).
const runAttempts = 5
const firstRetryDelayMs = 60_000

export interface SsoUpkeep {
  close(): Promise<void>
}

export function startSsoUpkeep(deps: {
  db: AuthDatabase
  redisUrl: string
  log: EventsLog
  refresh: MetadataRefresh
  expiry: CertificateExpiryNotices
  queue?: string
  now?: () => Date
  /** First retry delay of a failed run; later ones double. */
  retryDelayMs?: number
}): SsoUpkeep {
  const now = deps.now ?? (() => new Date())
  const name = deps.queue ?? ssoUpkeepQueue
  const queueConnection = createRedis(deps.redisUrl, { role: 'waiting', log: deps.log, name: 'gatehouse-sso-upkeep' })
  const workerConnection = createRedis(deps.redisUrl, {
    role: 'waiting',
    log: deps.log,
    name: 'gatehouse-sso-upkeep-worker',
  })
  const queue = new Queue(name, { connection: queueConnection })
  logBullmqProblems(queue, { log: deps.log, connection: queueConnection })
  const runOptions = {
    attempts: runAttempts,
    backoff: { type: 'exponential', delay: deps.retryDelayMs ?? firstRetryDelayMs },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 100 },
  }
  const scheduled = Promise.all([
    queue.upsertJobScheduler(
      ssoUpkeepJobs.metadataRefresh,
      { every: metadataRefreshEveryMs },
      { name: ssoUpkeepJobs.metadataRefresh, opts: runOptions },
    ),
    queue.upsertJobScheduler(
      ssoUpkeepJobs.certificateExpiry,
      { every: expiryCheckEveryMs },
      { name: ssoUpkeepJobs.certificateExpiry, opts: runOptions },
    ),
  ]).catch((error: unknown) => deps.log.error({ queue: name, ...failureFields(error) }, 'sso upkeep not scheduled'))

  /**
   * Refreshes the connections not read in the last 11½ hours: a refresh on demand, or the URL just
   * saved, counts, and a scheduler run again early (a re-created schedule) fetches nothing twice.
   */
  async function refreshDue() {
    const checkedBefore = new Date(now().getTime() - metadataRefreshEveryMs + 30 * 60 * 1000)
    let afterId: string | null = null
    for (;;) {
      const page = await listMetadataUrlConnections(deps.db, checkedBefore, afterId, 100)
      for (const { id } of page) {
        try {
          const result = await deps.refresh.refresh(id)
          deps.log.info({ connectionId: id, outcome: result.outcome }, 'idp metadata refreshed')
        } catch (error) {
          // One connection's trouble (its database write) does not stop the others' refresh.
          deps.log.error({ connectionId: id, ...failureFields(error) }, 'idp metadata refresh failed')
        }
      }
      afterId = page.at(-1)?.id ?? null
      if (page.length < 100 || afterId === null) return
    }
  }

  const worker = new Worker(
    name,
    async (job) => {
      if (job.name === ssoUpkeepJobs.metadataRefresh) return refreshDue()
      if (job.name === ssoUpkeepJobs.certificateExpiry) return deps.expiry.announceDue()
    },
    { connection: workerConnection, concurrency: 1 },
  )
  logBullmqProblems(worker, {
    log: deps.log,
    connection: workerConnection,
    failedMessage: 'sso upkeep run failed',
    // attemptsMade (added to every failed job's line) below attempts: it is tried again.
    jobFields: (job) => ({ job: job?.name, attempts: job?.opts.attempts }),
  })

  return {
    async close() {
      // The worker (a run in progress finishes first) and the queue hold their own connections.
      await Promise.all([
        worker.close().then(() => closeRedis(workerConnection)),
        scheduled.then(() => queue.close()).then(() => closeRedis(queueConnection)),
      ])
    },
  }
}
