// Invitation emails leave in two steps, so that one written in a committed transaction is sent
// even if the process dies right after the commit: a loop moves unqueued messages from the email
// outbox to a BullMQ queue (job id = message id, so queueing twice adds one job), and a worker in
// every replica sends each job with retries and backoff. The job carries only the message id,
// never the link: the token stays out of Redis.
import { type EventsLog, logBullmqProblems, startPollLoop } from '@gatehouse/events'
import { closeRedis, createRedis, RedisUnavailableError } from '@gatehouse/server/redis'
import { type BackoffStrategy, type JobsOptions, Queue, Worker } from 'bullmq'
import type { InvitationDatabase } from '../db/database.ts'
import { claimEmailsToQueue, findEmail, markQueued, markSent } from './repo.ts'
import type { MailTransport } from './transport.ts'

export interface EmailDeliveryOptions {
  db: InvitationDatabase
  redisUrl: string
  queue: string
  transport: MailTransport
  log: EventsLog
  now?: () => Date
  /** First retry delay of a failed send; later ones double, up to `maximumRetryDelayMs`. */
  retryDelayMs?: number
  /** How often the outbox is read when nobody woke the loop (another replica's commit, a crash). */
  pollIntervalMs?: number
}

export interface EmailDelivery {
  /** Queue now: call after committing a transaction that wrote an email. */
  wake(): void
  stop(): Promise<void>
}

const backoffType = 'gatehouse-email-backoff'
const maximumRetryDelayMs = 5 * 60_000
// 30 attempts capped at 5 minutes apart: about two hours of an SMTP outage before a message
// lands in the failed set (kept, for an operator to retry).
const jobOptions: JobsOptions = {
  attempts: 30,
  backoff: { type: backoffType },
  removeOnComplete: { age: 24 * 60 * 60, count: 100_000 },
  removeOnFail: false,
}
/** A queued message unsent after this long is queued again, in case Redis lost its job. */
const requeueAfterMs = 15 * 60_000
const batchSize = 100

export function startEmailDelivery(options: EmailDeliveryOptions): EmailDelivery {
  const { db, log } = options
  const now = options.now ?? (() => new Date())
  const retryDelayMs = options.retryDelayMs ?? 1_000
  const pollIntervalMs = options.pollIntervalMs ?? 2_000

  const producerConnection = createRedis(options.redisUrl, {
    role: 'failFast',
    log: log,
    name: 'gatehouse-email-outbox',
  })
  const workerConnection = createRedis(options.redisUrl, { role: 'waiting', log: log, name: 'gatehouse-email-sender' })
  let queue: Queue | undefined

  const backoffStrategy: BackoffStrategy = (attemptsMade, type) =>
    type === backoffType ? Math.min(retryDelayMs * 2 ** Math.max(0, attemptsMade - 1), maximumRetryDelayMs) : 0

  const worker = new Worker<{ emailId: string }>(
    options.queue,
    async (job) => {
      const email = await findEmail(db, job.data.emailId)
      // Sent already (a job run twice), or superseded by a newer link or a revocation.
      if (!email || email.sentAt || email.discardedAt) return 'skipped'
      await options.transport.send({
        id: email.id,
        to: email.recipient,
        subject: email.subject,
        text: email.textBody,
        html: email.htmlBody,
      })
      // A crash between the send and this update sends the message again: at least once.
      await markSent(db, email.id, now())
      return 'sent'
    },
    { connection: workerConnection, concurrency: 4, settings: { backoffStrategy } },
  )
  logBullmqProblems(worker, {
    log,
    connection: workerConnection,
    failedMessage: 'invitation email not sent; retrying with backoff',
    jobFields: (job) => ({ emailId: job?.data.emailId }),
  })

  async function queueBatch(): Promise<number> {
    if (producerConnection.status !== 'ready') throw new RedisUnavailableError(`redis is ${producerConnection.status}`)
    return db.transaction(async (tx) => {
      const current = now()
      const claimed = await claimEmailsToQueue(
        tx,
        options.queue,
        new Date(current.getTime() - requeueAfterMs),
        batchSize,
      )
      if (claimed.length === 0) return 0
      if (!queue) {
        queue = new Queue(options.queue, { connection: producerConnection })
        logBullmqProblems(queue, { log, connection: producerConnection })
      }
      try {
        await queue.addBulk(
          claimed.map(({ id }) => ({
            name: 'invitation-email',
            data: { emailId: id },
            opts: { ...jobOptions, jobId: id },
          })),
        )
      } catch (error) {
        // A queue whose connection failed while it was initialising stays broken: make a new one.
        const broken = queue
        queue = undefined
        await broken.close().catch(() => {})
        throw error
      }
      await markQueued(
        tx,
        claimed.map(({ id }) => id),
        current,
      )
      return claimed.length
    })
  }

  const loop = startPollLoop({
    name: 'email outbox',
    log,
    pollIntervalMs,
    // The first attempts of a process fall while its Redis connection is still being made.
    startupFailuresUnlogged: 3,
    step: async () => (await queueBatch()) === batchSize,
  })

  return {
    wake: loop.wake,
    async stop() {
      // The outbox loop and the sending worker (whose sends in progress finish first) each hold
      // their own connection: they close side by side.
      const stopQueueing = async () => {
        await loop.stop()
        await queue?.close().catch(() => {})
        await closeRedis(producerConnection)
      }
      const stopSending = async () => {
        await worker.close()
        options.transport.close()
        await closeRedis(workerConnection)
      }
      await Promise.all([stopQueueing(), stopSending()])
    },
  }
}
