// The `invitation-events` BullMQ queue: each event is one job whose id is the event id, so the
// relay publishing an event twice adds one job, and one worker in one replica processes it.

import { closeRedis, createRedis } from '@gatehouse/server/redis'
import { type BackoffStrategy, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { logBullmqProblems } from './bullmq-log.ts'
import { invitationEventsQueue } from './destinations.ts'
import { type GatehouseEvent, type InvitationEvent, isInvitationEvent, parseEvent } from './event-schemas.ts'
import { defaultLog, type EventsLog } from './log.ts'

const backoffType = 'gatehouse-capped-exponential'
const maximumRetryDelayMs = 60_000

/**
 * 50 attempts with delays doubling up to a minute: about 45 minutes of retries, enough to ride
 * out a consumer's database restart. A job that still fails stays in the failed set (never
 * removed) for an operator to retry. Completed jobs are kept a day so that a republished event id
 * still finds its job and is not added again.
 */
export const invitationJobOptions: JobsOptions = {
  attempts: 50,
  backoff: { type: backoffType },
  removeOnComplete: { age: 24 * 60 * 60, count: 100_000 },
  removeOnFail: false,
}

export function createInvitationQueue(redis: Redis, name: string = invitationEventsQueue): Queue {
  return new Queue(name, { connection: redis })
}

export async function publishToQueue(queue: Queue, events: GatehouseEvent[]): Promise<void> {
  if (events.length === 0) return
  await queue.addBulk(
    events.map((event) => ({ name: event.type, data: event, opts: { ...invitationJobOptions, jobId: event.id } })),
  )
}

export interface ConsumeInvitationEventsOptions {
  redisUrl: string
  /** Jobs handled at once by this process. */
  concurrency?: number
  /** First retry delay; later ones double, up to a minute. */
  retryDelayMs?: number
  queue?: string
  log?: EventsLog
}

export interface InvitationEventsConsumer {
  /** Waits for the jobs in progress, then disconnects. */
  close(): Promise<void>
}

/**
 * Processes `invitation-events`; safe to run in every replica (BullMQ hands each job to one
 * worker). The handler must be idempotent on `event.id`: a job whose worker died mid-way is
 * processed again once its lock expires. A handler that throws is retried with backoff.
 */
export function consumeInvitationEvents(
  options: ConsumeInvitationEventsOptions,
  handler: (event: InvitationEvent) => Promise<void>,
): InvitationEventsConsumer {
  const log = options.log ?? defaultLog
  const retryDelayMs = options.retryDelayMs ?? 500
  const backoffStrategy: BackoffStrategy = (attemptsMade, type) => {
    if (type !== backoffType) return 0
    return Math.min(retryDelayMs * 2 ** Math.max(0, attemptsMade - 1), maximumRetryDelayMs)
  }
  const connection = createRedis(options.redisUrl, { role: 'waiting', log: log, name: 'gatehouse-invitation-consumer' })
  const worker = new Worker(
    options.queue ?? invitationEventsQueue,
    async (job) => {
      let event: GatehouseEvent
      try {
        event = parseEvent(job.data)
      } catch (error) {
        // A malformed job can never succeed: fail it at once instead of retrying it 50 times.
        throw new UnrecoverableError(error instanceof Error ? error.message : String(error))
      }
      if (!isInvitationEvent(event)) throw new UnrecoverableError(`${event.type} does not belong on this queue`)
      await handler(event)
    },
    {
      connection,
      concurrency: options.concurrency ?? 4,
      settings: { backoffStrategy },
      // A replica that dies mid-job has its jobs retried by another after ~10 s; a job may stall
      // several times across repeated crashes before BullMQ gives up on it.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 10,
    },
  )
  logBullmqProblems(worker, {
    log,
    connection,
    failedMessage: 'invitation event handler failed',
    jobFields: (job) => ({ eventId: job?.id }),
  })
  return {
    async close() {
      await worker.close()
      await closeRedis(connection)
    },
  }
}
