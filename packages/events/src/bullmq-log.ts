// BullMQ reports trouble as events: a queue's or worker's `error` (its connections; an emitter with
// no listener prints the raw error and its stack to stderr), and a worker's `failed` (a job threw;
// BullMQ retries it with its backoff). Every queue and worker here logs them through this, bounded
// like the poll loop's lines: an outage is said once, not once per job or per reconnection.

import { failureFields, outageCode } from '@gatehouse/server/failures'
import { type Job, type Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { EventsLog } from './log.ts'

export interface BullmqLogOptions {
  log: EventsLog
  /** The connection the queue or worker was given: its return ends a connection outage. */
  connection: Redis
  /** What a worker's failed job's line says, e.g. `invitation event handler failed`. */
  failedMessage?: string
  /** The fields naming a failed job in its line (never its payload: it may hold addresses). */
  jobFields?: (job: Job | undefined) => Record<string, unknown>
}

export function logBullmqProblems(emitter: Queue | Worker, options: BullmqLogOptions): void {
  const { log } = options
  const context = { queue: emitter.name }
  let connectionDown = false
  options.connection.on('ready', () => {
    connectionDown = false
  })
  const onError = (error: Error) => {
    if (connectionDown) return
    const fields = failureFields(error)
    // A worker's blocking connection is BullMQ's duplicate of ours, without createRedis's typed
    // errors: its socket errors arrive bare, and they are Redis's (job failures come as `failed`).
    const code = fields.code === 'database_unavailable' ? 'redis_unavailable' : fields.code
    connectionDown = code === 'redis_unavailable'
    log.warn({ ...context, ...fields, code }, 'queue connection failing; BullMQ reconnects')
  }
  if (emitter instanceof Worker) emitter.on('error', onError)
  else emitter.on('error', onError)
  if (!(emitter instanceof Worker)) return
  const worker = emitter
  let outage: string | undefined
  worker.on('failed', (job: Job | undefined, error: Error) => {
    const fields = failureFields(error)
    const jobFields = { ...options.jobFields?.(job), attemptsMade: job?.attemptsMade }
    const away = outageCode(error)
    if (away) {
      if (outage === away) return
      outage = away
      log.warn(
        { ...context, ...fields, ...jobFields },
        'jobs failing while a dependency is away; each is retried with backoff',
      )
      return
    }
    log.warn({ ...context, ...fields, ...jobFields }, options.failedMessage ?? 'job failed; retried with backoff')
  })
  worker.on('completed', () => {
    if (outage === undefined) return
    log.info({ ...context, code: outage }, 'jobs completing again')
    outage = undefined
  })
}
