// Event backbone benchmark (issue 5, acceptance 4), against the real Postgres and Redis:
//  1. fan-out: outbox writes -> relay -> `auth-events` stream -> 3 subscriber groups (in another
//     process, events-subscribers.ts), over 20,000 events, with zero loss checked id by id (a digest
//     of the ids each group received); once while the writes happen, once draining a backlog;
//  2. latency from a committed outbox write to the BullMQ consumer's handler, at idle and at 200/s
//     (and the same for the stream, for comparison).
// Run from the repository root: npx tsx test/bench/events.bench.ts
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createRedis } from '@gatehouse/server/redis'
import { eventually, redisUrl, uniqueSuffix } from '@gatehouse/testing'
import {
  consumeInvitationEvents,
  createEvent,
  type GatehouseEvent,
  startOutboxRelay,
  subscribe,
  writeEvent,
  writeEvents,
} from '../../packages/events/src/index.ts'
import { createOutboxDatabase, type OutboxDatabase } from '../../packages/events/test/fixtures/outbox-database.ts'
import { removeKeys } from '../support/redis-database.ts'
import { summarize } from '../support/stats.ts'

const fanOutEvents = 20_000
const writeTransactionSize = 100
const producers = 4
const groups = ['audit', 'alerts', 'analytics']
const latencySamples = 1_000
const loadRatePerSecond = 200
type Redis = ReturnType<typeof createRedis>

const quietLog = {
  info: () => {},
  warn: () => {},
  error: (details: object, message: string) => console.error(message, details),
}

function loginEvent(index: number): GatehouseEvent {
  return createEvent('auth.login.succeeded', {
    userId: crypto.randomUUID(),
    email: `bench-${index}@example.test`,
    method: 'password',
    ip: '127.0.0.1',
    userAgent: 'events.bench',
  })
}

function acceptedEvent(): GatehouseEvent {
  return createEvent('invitation.accepted', {
    invitationId: crypto.randomUUID(),
    workspaceId: crypto.randomUUID(),
    userId: crypto.randomUUID(),
    email: `bench-${uniqueSuffix()}@example.test`,
    role: 'member',
    acceptedAt: new Date().toISOString(),
  })
}

function summary(latencies: number[]): string {
  const { p50, p99, max, n } = summarize(latencies)
  const format = (value: number) => `${value.toFixed(2)} ms`
  return `p50 ${format(p50)}, p99 ${format(p99)}, max ${format(max)} (n=${n})`
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  // Polled often: the moment a condition first holds is part of what is measured.
  await eventually(what, async () => (condition() ? true : undefined), { timeoutMs: 120_000, intervalMs: 5 })
}

interface GroupReport {
  group: string
  received: number
  distinct: number
  digest: string
  lastAt: number
}

/** Starts the 3 groups in a child process (subscriber services run apart from the producer). */
async function startSubscriberProcess(stream: string) {
  const script = fileURLToPath(new URL('./events-subscribers.ts', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, redisUrl, stream, String(fanOutEvents), ...groups],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const reports: GroupReport[] = []
  let ready = false
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => {
    if (line === 'ready') ready = true
    else reports.push(JSON.parse(line) as GroupReport)
  })
  await waitFor(() => ready, 'the subscriber process')
  return {
    reports,
    async stop() {
      const exited = once(child, 'exit')
      child.stdin.end()
      await exited
    },
  }
}

function checkNoLoss(expectedIds: string[], reports: GroupReport[]): string {
  const digest = createHash('sha256')
    .update([...expectedIds].sort().join('\n'))
    .digest('hex')
  return reports
    .map((report) => {
      if (report.distinct !== expectedIds.length || report.digest !== digest) {
        throw new Error(`group ${report.group} did not receive exactly the events written`)
      }
      return `${report.group}: ${report.distinct} distinct events, 0 lost, ${report.received - report.distinct} duplicates`
    })
    .join('; ')
}

function printRates(reports: GroupReport[], startedAt: number, writtenAt?: number): void {
  for (const report of [...reports].sort((a, b) => a.group.localeCompare(b.group))) {
    const seconds = (report.lastAt - startedAt) / 1_000
    const lag =
      writtenAt === undefined ? '' : ` (last event ${(report.lastAt - writtenAt).toFixed(0)} ms after the last commit)`
    console.log(`  group ${report.group}: ${Math.round(fanOutEvents / seconds)} events/s${lag}`)
  }
}

const now = () => performance.timeOrigin + performance.now()

/** The relay under measure: batches of 1,000, publishing to this run's stream. */
function startBenchRelay(database: OutboxDatabase, stream: string) {
  return startOutboxRelay({
    db: database.db,
    table: database.table,
    redisUrl,
    streamName: stream,
    batchSize: 1_000,
    log: quietLog,
  })
}

async function benchFanOutLive(database: OutboxDatabase, redis: Redis): Promise<void> {
  const stream = `bench-auth-events-${uniqueSuffix()}`
  const subscribers = await startSubscriberProcess(stream)
  const relay = startBenchRelay(database, stream)
  const events = Array.from({ length: fanOutEvents }, (_, index) => loginEvent(index))
  const startedAt = now()
  // Several producers commit at once, as the replicas of a service would.
  let nextOffset = 0
  const producer = async () => {
    while (nextOffset < events.length) {
      const offset = nextOffset
      nextOffset += writeTransactionSize
      await database.db.transaction((tx) =>
        writeEvents(tx, database.table, events.slice(offset, offset + writeTransactionSize)),
      )
      relay.wake()
    }
  }
  await Promise.all(Array.from({ length: producers }, producer))
  const writtenAt = now()
  await waitFor(() => subscribers.reports.length === groups.length, 'every group to receive every event')
  await relay.stop()
  await subscribers.stop()
  const seconds = (writtenAt - startedAt) / 1_000
  console.log(
    `fan-out while writing: ${fanOutEvents} events committed in ${seconds.toFixed(2)} s (${Math.round(fanOutEvents / seconds)}/s; ${producers} producers, ${writeTransactionSize} events per transaction); write -> all 3 groups:`,
  )
  printRates(subscribers.reports, startedAt, writtenAt)
  console.log(
    `  ${checkNoLoss(
      events.map((event) => event.id),
      subscribers.reports,
    )}`,
  )
  await cleanStream(redis, stream)
}

async function benchFanOutBacklog(database: OutboxDatabase, redis: Redis): Promise<void> {
  const stream = `bench-auth-events-${uniqueSuffix()}`
  const events = Array.from({ length: fanOutEvents }, (_, index) => loginEvent(index))
  for (let offset = 0; offset < events.length; offset += 1_000) {
    await database.db.transaction((tx) => writeEvents(tx, database.table, events.slice(offset, offset + 1_000)))
  }
  const subscribers = await startSubscriberProcess(stream)
  const startedAt = now()
  const relay = startBenchRelay(database, stream)
  await waitFor(() => subscribers.reports.length === groups.length, 'every group to receive every event')
  await relay.stop()
  await subscribers.stop()
  console.log(`fan-out draining a backlog of ${fanOutEvents} outbox rows (relay batch 1,000) -> all 3 groups:`)
  printRates(subscribers.reports, startedAt)
  console.log(
    `  ${checkNoLoss(
      events.map((event) => event.id),
      subscribers.reports,
    )}`,
  )
  await cleanStream(redis, stream)
}

async function benchQueueLatency(
  database: OutboxDatabase,
  redis: Redis,
  ratePerSecond: number | 'idle',
): Promise<void> {
  const queueName = `bench-invitation-events-${uniqueSuffix()}`
  const relay = startOutboxRelay({ db: database.db, table: database.table, redisUrl, queueName, log: quietLog })
  const committedAt = new Map<string, number>()
  const latencies: number[] = []
  let delivered = 0
  const consumer = consumeInvitationEvents(
    { redisUrl, queue: queueName, concurrency: 8, log: quietLog },
    async (event) => {
      const start = committedAt.get(event.id)
      if (start !== undefined) latencies.push(performance.now() - start)
      delivered += 1
    },
  )
  await warmUp(database, relay, () => delivered, acceptedEvent)
  delivered = 0
  await measure(database, relay, committedAt, () => delivered, acceptedEvent, ratePerSecond)
  await consumer.close()
  await relay.stop()
  await removeKeys(redis, `bull:${queueName}:*`)
  const label = ratePerSecond === 'idle' ? 'at idle (one at a time)' : `at ${ratePerSecond}/s`
  console.log(`invitation-events queue, commit -> handler ${label}: ${summary(latencies)}`)
}

async function benchStreamLatency(database: OutboxDatabase, redis: Redis): Promise<void> {
  const stream = `bench-auth-events-${uniqueSuffix()}`
  const relay = startOutboxRelay({
    db: database.db,
    table: database.table,
    redisUrl,
    streamName: stream,
    log: quietLog,
  })
  const committedAt = new Map<string, number>()
  const latencies: number[] = []
  let delivered = 0
  const subscription = await subscribe(
    { redisUrl, stream, group: 'latency', from: 'start', log: quietLog },
    async (event) => {
      const start = committedAt.get(event.id)
      if (start !== undefined) latencies.push(performance.now() - start)
      delivered += 1
    },
  )
  let counter = 0
  await warmUp(
    database,
    relay,
    () => delivered,
    () => loginEvent(counter++),
  )
  delivered = 0
  await measure(
    database,
    relay,
    committedAt,
    () => delivered,
    () => loginEvent(counter++),
    'idle',
  )
  await subscription.close()
  await relay.stop()
  console.log(`auth-events stream, commit -> handler at idle (one at a time): ${summary(latencies)}`)
  await cleanStream(redis, stream)
}

type Relay = ReturnType<typeof startOutboxRelay>

async function warmUp(database: OutboxDatabase, relay: Relay, delivered: () => number, make: () => GatehouseEvent) {
  for (let index = 0; index < 50; index++) {
    await database.db.transaction((tx) => writeEvent(tx, database.table, make()))
    relay.wake()
    await waitFor(() => delivered() > index, 'a warm-up event')
  }
}

/** Each sample: commit a one-event transaction (as a service does), wake the relay, time to the handler. */
async function measure(
  database: OutboxDatabase,
  relay: Relay,
  committedAt: Map<string, number>,
  delivered: () => number,
  make: () => GatehouseEvent,
  ratePerSecond: number | 'idle',
): Promise<void> {
  const writeOne = async () => {
    const event = make()
    await database.db.transaction((tx) => writeEvent(tx, database.table, event))
    committedAt.set(event.id, performance.now())
    relay.wake()
  }
  if (ratePerSecond === 'idle') {
    for (let index = 0; index < latencySamples; index++) {
      await writeOne()
      await waitFor(() => delivered() > index, 'a measured event')
    }
    return
  }
  // Open loop: writes start on schedule whether or not earlier ones were delivered.
  const intervalMs = 1_000 / ratePerSecond
  const startedAt = performance.now()
  const writes: Promise<void>[] = []
  for (let index = 0; index < latencySamples; index++) {
    const due = startedAt + index * intervalMs
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    writes.push(writeOne())
  }
  await Promise.all(writes)
  await waitFor(() => delivered() >= latencySamples, 'every measured event')
}

async function cleanStream(redis: Redis, stream: string): Promise<void> {
  await removeKeys(redis, `${stream}:published:*`)
  await redis.unlink(stream)
}

const database = await createOutboxDatabase('postgres')
const redis = createRedis(redisUrl, { role: 'waiting', log: quietLog, name: 'events-bench' })
try {
  console.log(`events bench: Postgres outbox (schema ${database.schemaName}), Redis ${redisUrl}`)
  await benchFanOutLive(database, redis)
  await benchFanOutBacklog(database, redis)
  await benchQueueLatency(database, redis, 'idle')
  await benchQueueLatency(database, redis, loadRatePerSecond)
  await benchStreamLatency(database, redis)
} finally {
  redis.disconnect()
  await database.close()
}
