import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { redisUrl, startRedisProcess, uniqueSuffix } from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { publishToStream } from '../src/auth-stream.ts'
import {
  type AuthEvent,
  consumeInvitationEvents,
  type InvitationEvent,
  startOutboxRelay,
  subscribe,
  writeEvent,
  writeEvents,
} from '../src/index.ts'
import { publishToQueue } from '../src/invitation-queue.ts'
import { createOutboxDatabase, type OutboxDatabase } from './fixtures/outbox-database.ts'
import { invitationAccepted, loginFailed, recordingLog } from './fixtures/sample-events.ts'
import { waitUntil } from './fixtures/wait-until.ts'

function uniqueNames() {
  const suffix = uniqueSuffix()
  return { streamName: `test-auth-events-${suffix}`, queueName: `test-invitation-events-${suffix}` }
}

async function removeStreamKeys(redis: Redis, stream: string): Promise<void> {
  const markers = await redis.keys(`${stream}:published:*`)
  await redis.del(stream, ...markers)
}

async function removeQueue(url: string, name: string): Promise<void> {
  const queue = new Queue(name, { connection: { url } })
  await queue.obliterate({ force: true })
  await queue.close()
}

describe('outbox relay', () => {
  let database: OutboxDatabase
  const redis = new Redis(redisUrl)
  before(async () => {
    database = await createOutboxDatabase('postgres')
  })
  after(async () => {
    await database.close()
    redis.disconnect()
  })

  it('publishes nothing from a rolled-back transaction, and a committed event once', async () => {
    const { streamName, queueName } = uniqueNames()
    const log = recordingLog()
    const relay = startOutboxRelay({ db: database.db, table: database.table, redisUrl, streamName, queueName, log })
    const received: AuthEvent[] = []
    const subscription = await subscribe(
      { redisUrl, stream: streamName, group: 'audit', from: 'start', log },
      async (event) => {
        received.push(event)
      },
    )
    try {
      const rolledBack = loginFailed()
      await assert.rejects(
        database.db.transaction(async (tx) => {
          await writeEvent(tx, database.table, rolledBack)
          throw new Error('the fact was not recorded after all')
        }),
        /not recorded/,
      )
      const committed = loginFailed()
      await database.db.transaction(async (tx) => writeEvent(tx, database.table, committed))
      relay.wake()

      await waitUntil(() => received.length >= 1, 'the committed event arrives')
      assert.deepEqual(
        received.map((event) => event.id),
        [committed.id],
      )
      assert.equal(await redis.xlen(streamName), 1)
      await waitUntil(async () => (await database.unpublishedIds()).length === 0, 'the row is marked published')
    } finally {
      await subscription.close()
      await relay.stop()
      await removeStreamKeys(redis, streamName)
    }
  })

  it('publishes each committed event exactly once with two relays running', async () => {
    const { streamName, queueName } = uniqueNames()
    const log = recordingLog()
    const relays = [1, 2].map(() =>
      startOutboxRelay({ db: database.db, table: database.table, redisUrl, streamName, queueName, log, batchSize: 7 }),
    )
    const streamed = loginEvents(120)
    const queued = Array.from({ length: 60 }, () => invitationAccepted())
    const consumed: InvitationEvent[] = []
    const consumer = consumeInvitationEvents({ redisUrl, queue: queueName, log }, async (event) => {
      consumed.push(event)
    })
    try {
      // Interleaved writes in many transactions, each followed by a wake of either relay.
      for (let index = 0; index < 60; index++) {
        await database.db.transaction(async (tx) => {
          await writeEvents(
            tx,
            database.table,
            [streamed[2 * index], streamed[2 * index + 1], queued[index]].filter(isDefined),
          )
        })
        relays[index % 2]?.wake()
      }
      await waitUntil(async () => (await database.unpublishedIds()).length === 0, 'every row is published')
      await waitUntil(() => consumed.length >= queued.length, 'every queued event is consumed')

      // Two relays publish their batches concurrently: each event once, in no guaranteed order.
      const entries = await redis.xrange(streamName, '-', '+')
      const streamedIds = entries.map(([, fields]) => fields[fields.indexOf('id') + 1])
      assert.deepEqual(streamedIds.sort(), streamed.map((event) => event.id).sort())
      assert.deepEqual(consumed.map((event) => event.id).sort(), queued.map((event) => event.id).sort())
      const queue = new Queue(queueName, { connection: { url: redisUrl } })
      assert.equal(await queue.getJobCountByTypes('completed', 'waiting', 'active', 'delayed', 'failed'), queued.length)
      await queue.close()
    } finally {
      await consumer.close()
      await Promise.all(relays.map((relay) => relay.stop()))
      await removeStreamKeys(redis, streamName)
      await removeQueue(redisUrl, queueName)
    }
  })

  it('adds an event published again (a crash between publishing and marking the row) only once', async () => {
    const { streamName, queueName } = uniqueNames()
    const streamed = loginFailed()
    const queued = invitationAccepted()
    const queue = new Queue(queueName, { connection: { url: redisUrl } })
    try {
      assert.equal(await publishToStream(redis, streamName, [streamed]), 1)
      assert.equal(await publishToStream(redis, streamName, [streamed, loginFailed()]), 1)
      assert.equal(await redis.xlen(streamName), 2)

      await publishToQueue(queue, [queued])
      await publishToQueue(queue, [queued])
      assert.equal(await queue.getJobCountByTypes('waiting'), 1)
      assert.equal((await queue.getJob(queued.id))?.data.id, queued.id)
    } finally {
      await queue.close()
      await removeStreamKeys(redis, streamName)
      await removeQueue(redisUrl, queueName)
    }
  })

  it('holds events while Redis is down and delivers each once when it is back', async () => {
    const { streamName, queueName } = uniqueNames()
    const ownRedis = await startRedisProcess()
    const log = recordingLog()
    let publishErrors = 0
    const relay = startOutboxRelay({
      db: database.db,
      table: database.table,
      redisUrl: ownRedis.url,
      streamName,
      queueName,
      log,
      pollIntervalMs: 50,
      onPublishError: () => {
        publishErrors += 1
      },
    })
    const received: AuthEvent[] = []
    const consumed: InvitationEvent[] = []
    const subscription = await subscribe(
      { redisUrl: ownRedis.url, stream: streamName, group: 'audit', from: 'start', log },
      async (event) => {
        received.push(event)
      },
    )
    const consumer = consumeInvitationEvents({ redisUrl: ownRedis.url, queue: queueName, log }, async (event) => {
      consumed.push(event)
    })
    try {
      const before = loginFailed()
      await database.db.transaction(async (tx) => writeEvent(tx, database.table, before))
      relay.wake()
      await waitUntil(() => received.length === 1, 'the event before the outage arrives')
      const errorsBeforeOutage = publishErrors

      await ownRedis.stop()
      const streamed = loginEvents(30)
      const queued = Array.from({ length: 30 }, () => invitationAccepted())
      for (let index = 0; index < 30; index++) {
        await database.db.transaction(async (tx) =>
          writeEvents(tx, database.table, [streamed[index], queued[index]].filter(isDefined)),
        )
        relay.wake()
      }
      await waitUntil(
        () => log.lines.some((line) => line.message.startsWith('outbox relay failing')),
        'the relay has tried and failed',
      )
      assert.equal((await database.unpublishedIds()).length, 60)
      assert.ok(publishErrors > errorsBeforeOutage, 'each failed batch is reported (the metrics counter)')

      await ownRedis.start()
      // The relay marks rows in the transaction it commits after Redis accepted them, so consumers
      // may see an event a moment before its row reads as published.
      await waitUntil(async () => (await database.unpublishedIds()).length === 0, 'every row is published', 20_000)
      await waitUntil(() => received.length >= 31 && consumed.length >= 30, 'every event arrives')
      assert.deepEqual(
        received.map((event) => event.id),
        [before, ...streamed].map((event) => event.id),
      )
      assert.deepEqual(consumed.map((event) => event.id).sort(), queued.map((event) => event.id).sort())
    } finally {
      await consumer.close()
      await subscription.close()
      await relay.stop()
      await ownRedis.stop()
    }
  })
})

describe('outbox relay on PGlite', () => {
  it('claims, publishes and marks rows on the embedded database', async () => {
    const database = await createOutboxDatabase('pglite')
    const { streamName, queueName } = uniqueNames()
    const redis = new Redis(redisUrl)
    const relay = startOutboxRelay({ db: database.db, table: database.table, redisUrl, streamName, queueName })
    try {
      const events = loginEvents(5)
      await database.db.transaction(async (tx) => writeEvents(tx, database.table, events))
      relay.wake()
      await waitUntil(async () => (await database.unpublishedIds()).length === 0, 'the rows are published')
      const entries = await redis.xrange(streamName, '-', '+')
      assert.deepEqual(
        entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null')),
        events,
      )
    } finally {
      await relay.stop()
      await removeStreamKeys(redis, streamName)
      redis.disconnect()
      await database.close()
    }
  })
})

function loginEvents(count: number) {
  return Array.from({ length: count }, () => loginFailed())
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined
}
