import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { redisUrl, uniqueSuffix } from '@gatehouse/testing'
import { Redis } from 'ioredis'
import { publishToStream } from '../src/auth-stream.ts'
import { type AuthEvent, subscribe } from '../src/index.ts'
import { loginFailed, recordingLog } from './fixtures/sample-events.ts'
import { waitUntil } from './fixtures/wait-until.ts'

const hangingSubscriber = fileURLToPath(new URL('./fixtures/hanging-subscriber.ts', import.meta.url))

describe('subscribe', () => {
  const redis = new Redis(redisUrl)
  const streams: string[] = []
  after(async () => {
    for (const stream of streams) {
      const markers = await redis.keys(`${stream}:published:*`)
      await redis.del(stream, ...markers)
    }
    redis.disconnect()
  })

  function uniqueStream(): string {
    const stream = `test-auth-events-${uniqueSuffix()}`
    streams.push(stream)
    return stream
  }

  function collector() {
    const received: AuthEvent[] = []
    return {
      received,
      ids: () => received.map((event) => event.id),
      handler: async (event: AuthEvent) => {
        received.push(event)
      },
    }
  }

  async function pendingCount(stream: string, group: string): Promise<number> {
    const [count] = (await redis.xpending(stream, group)) as [number]
    return count
  }

  async function consumerNames(stream: string, group: string): Promise<string[]> {
    const consumers = (await redis.xinfo('CONSUMERS', stream, group)) as string[][]
    return consumers.map((fields) => fields[fields.indexOf('name') + 1] ?? '')
  }

  it('delivers every event to every group, and each group acknowledges what it handled', async () => {
    const stream = uniqueStream()
    const audit = collector()
    const alerts = collector()
    const log = recordingLog()
    const subscriptions = [
      await subscribe({ redisUrl, stream, group: 'audit', from: 'start', log }, audit.handler),
      await subscribe({ redisUrl, stream, group: 'alerts', from: 'start', log }, alerts.handler),
    ]
    const events = Array.from({ length: 50 }, () => loginFailed())
    await publishToStream(redis, stream, events)

    await waitUntil(() => audit.received.length === 50 && alerts.received.length === 50, 'both groups have all events')
    await Promise.all(subscriptions.map((subscription) => subscription.close()))
    assert.deepEqual(audit.received, events)
    assert.deepEqual(alerts.received, events)
    assert.equal(await pendingCount(stream, 'audit'), 0)
    assert.equal(await pendingCount(stream, 'alerts'), 0)
  })

  it("a new group starts from 'start' or 'now'; an existing group resumes where it stopped", async () => {
    const stream = uniqueStream()
    const [first, second, third] = [loginFailed(), loginFailed(), loginFailed()]
    await publishToStream(redis, stream, [first])

    const fromNow = collector()
    const fromStart = collector()
    const nowSubscription = await subscribe({ redisUrl, stream, group: 'from-now', from: 'now' }, fromNow.handler)
    const startSubscription = await subscribe(
      { redisUrl, stream, group: 'from-start', from: 'start' },
      fromStart.handler,
    )
    await publishToStream(redis, stream, [second])
    await waitUntil(() => fromNow.received.length === 1 && fromStart.received.length === 2, 'the second event arrives')
    // Entries arrive in stream order, so a group that got `second` first never had `first`.
    assert.deepEqual(fromNow.ids(), [second.id])
    assert.deepEqual(fromStart.ids(), [first.id, second.id])
    await startSubscription.close()

    await publishToStream(redis, stream, [third])
    const resumed = collector()
    const resumedSubscription = await subscribe(
      { redisUrl, stream, group: 'from-start', from: 'start' },
      resumed.handler,
    )
    await waitUntil(() => resumed.received.length === 1 && fromNow.received.length === 2, 'the third event arrives')
    assert.deepEqual(resumed.ids(), [third.id])
    await Promise.all([resumedSubscription.close(), nowSubscription.close()])
  })

  it('hands an event whose handler threw to the handler again', async () => {
    const stream = uniqueStream()
    const log = recordingLog()
    const attempts: string[] = []
    const handled: string[] = []
    const [flaky, steady] = [loginFailed(), loginFailed()]
    const subscription = await subscribe(
      { redisUrl, stream, group: 'flaky', from: 'start', claimIdleMs: 100, log },
      async (event) => {
        attempts.push(event.id)
        if (event.id === flaky.id && attempts.filter((id) => id === flaky.id).length === 1) {
          throw new Error('the database blinked')
        }
        handled.push(event.id)
      },
    )
    await publishToStream(redis, stream, [flaky, steady])
    await waitUntil(() => handled.length === 2, 'both events are handled')
    await subscription.close()

    assert.deepEqual(attempts, [flaky.id, steady.id, flaky.id])
    assert.deepEqual(handled, [steady.id, flaky.id])
    assert.equal(await pendingCount(stream, 'flaky'), 0)
    assert.ok(log.lines.some((line) => line.level === 'warn' && line.details.eventId === flaky.id))
  })

  it('takes over the unacknowledged events of a consumer that died', async (t) => {
    const stream = uniqueStream()
    const events = Array.from({ length: 5 }, () => loginFailed())
    await publishToStream(redis, stream, events)

    const child = spawn(process.execPath, [hangingSubscriber, redisUrl, stream, 'billing', 'doomed'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    // Should the wait below fail, the subscriber (which never exits by itself) must not keep this
    // test file's process, and with it the whole run, alive.
    t.after(() => child.kill('SIGKILL'))
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    // This wait includes starting a process, which took over 10 s with the suite's files running
    // side by side on a busy 2-core machine.
    await waitUntil(() => output.includes(events[0]?.id ?? '-'), 'the doomed consumer receives the first event', 30_000)
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
    assert.equal(await pendingCount(stream, 'billing'), 5)

    const survivor = collector()
    const subscription = await subscribe(
      {
        redisUrl,
        stream,
        group: 'billing',
        consumer: 'survivor',
        claimIdleMs: 100,
        forgetIdleConsumersMs: 500,
        log: recordingLog(),
      },
      survivor.handler,
    )
    await waitUntil(() => survivor.received.length === 5, 'the survivor has taken over every event')
    assert.deepEqual(survivor.received, events)
    assert.equal(await pendingCount(stream, 'billing'), 0)
    // The dead consumer, left holding nothing, is forgotten; the survivor leaves the group on close.
    await waitUntil(async () => (await consumerNames(stream, 'billing')).join() === 'survivor', 'doomed is removed')
    await subscription.close()
    assert.deepEqual(await consumerNames(stream, 'billing'), [])
  })

  it('acknowledges and reports a stream entry that is not an auth event instead of retrying it forever', async () => {
    const stream = uniqueStream()
    const log = recordingLog()
    const received = collector()
    const valid = loginFailed()
    await redis.xadd(stream, '*', 'id', 'x', 'event', '{"type":"auth.login.failed"')
    await redis.xadd(stream, '*', 'id', 'y', 'event', JSON.stringify({ ...valid, type: 'invitation.created' }))
    await publishToStream(redis, stream, [valid])
    const subscription = await subscribe({ redisUrl, stream, group: 'strict', from: 'start', log }, received.handler)
    await waitUntil(() => received.received.length === 1, 'the valid event arrives')
    await subscription.close()
    assert.deepEqual(received.ids(), [valid.id])
    assert.equal(await pendingCount(stream, 'strict'), 0)
    assert.equal(log.lines.filter((line) => line.level === 'error').length, 2)
  })
})
