// Issue 14, acceptance 2: the projection's consumer is killed (SIGKILL, a real process) in the
// middle of a stream of sign-in events; another consumer of the group takes over what it held,
// and a full replay of the stream afterwards changes nothing: every event is one row.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { connect } from '@gatehouse/db'
import { createEvent, publishToStream } from '@gatehouse/events'
import { eventually, postgresUrl, redisUrl, uniqueSuffix } from '@gatehouse/testing'
import { eq, sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import { migrationsFolder, schema } from '../src/app.ts'
import { signInHistory } from '../src/db/schema.ts'
import { startSignInHistoryProjection } from '../src/sign-in-history/projection.ts'

const consumerProcess = fileURLToPath(new URL('./fixtures/sign-in-history-consumer.ts', import.meta.url))
const events = 1000
const recordedBeforeKill = 100
const quietLog = { info: () => {}, warn: () => {}, error: console.error }

describe('the sign-in history projection', () => {
  const redis = new Redis(redisUrl)
  const stream = `test-auth-events-${uniqueSuffix()}`
  const group = `sign-in-history-${uniqueSuffix()}`
  after(async () => {
    const markers = await redis.keys(`${stream}:published:*`)
    await redis.del(stream, ...markers)
    redis.disconnect()
  })

  it('records every sign-in exactly once when its consumer is killed mid-stream and the stream is replayed', async () => {
    const database = await connect({ url: postgresUrl, dataDir: '', service: 'auth', migrationsFolder, schema })
    const { db } = database
    const workspaceId = randomUUID()
    const published = Array.from({ length: events }, (_, index) =>
      createEvent('auth.login.failed', {
        email: `person-${index}@example.com`,
        method: 'saml',
        workspaceId,
        connectionId: randomUUID(),
        ip: '192.0.2.1',
        userAgent: 'test',
        initiation: 'sp',
        reason: 'issuer_mismatch',
        code: 'saml_invalid',
      }),
    )
    for (let start = 0; start < events; start += 500) {
      await publishToStream(redis, stream, published.slice(start, start + 500))
    }
    const recorded = async () => {
      const [row] = await db
        .select({
          rows: sql<number>`count(*)::int`,
          distinct: sql<number>`count(distinct ${signInHistory.eventId})::int`,
        })
        .from(signInHistory)
        .where(eq(signInHistory.workspaceId, workspaceId))
      return row ?? { rows: 0, distinct: 0 }
    }
    const pending = async () => ((await redis.xpending(stream, group)) as [number])[0]

    const child = spawn(process.execPath, [consumerProcess, postgresUrl, redisUrl, stream, group, 'doomed'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = once(child, 'exit')
    await eventually(
      `${recordedBeforeKill} sign-ins recorded by the doomed consumer`,
      async () => ((await recorded()).rows >= recordedBeforeKill ? true : undefined),
      { intervalMs: 5 },
    )
    child.kill('SIGKILL')
    const [, signal] = await exited
    assert.equal(signal, 'SIGKILL')
    const atKill = await recorded()
    assert.ok(atKill.rows < events, `the kill fell after the stream (${atKill.rows} rows): it proved nothing`)

    // A consumer of the same group: it claims what the dead one held (after 200 ms idle) and reads on.
    const survivor = startSignInHistoryProjection({ db, redisUrl, stream, group, claimIdleMs: 200, log: quietLog })
    try {
      await eventually(
        'every sign-in recorded and nothing left pending',
        async () => ((await recorded()).rows === events && (await pending()) === 0 ? true : undefined),
        { intervalMs: 20 },
      )
      // Replay: the group rewinds to the start of the stream and receives every event again.
      await redis.xgroup('SETID', stream, group, '0')
      const [lastEntryId] = ((await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][])[0] ?? []
      await eventually(
        'the replay handled to the end of the stream',
        async () => {
          const groups = (await redis.xinfo('GROUPS', stream)) as (string | number)[][]
          const ours = groups.map((fields) => fields.map(String)).find((fields) => fields[1] === group) ?? []
          const lastDelivered = ours[ours.indexOf('last-delivered-id') + 1]
          return lastDelivered === lastEntryId && (await pending()) === 0 ? true : undefined
        },
        { intervalMs: 20 },
      )
    } finally {
      await survivor.close()
    }
    assert.deepEqual(await recorded(), { rows: events, distinct: events })
    const ids = await db
      .select({ eventId: signInHistory.eventId })
      .from(signInHistory)
      .where(eq(signInHistory.workspaceId, workspaceId))
    assert.deepEqual(new Set(ids.map((row) => row.eventId)), new Set(published.map((event) => event.id)))
    await db.delete(signInHistory).where(eq(signInHistory.workspaceId, workspaceId))
    await database.close()
  })
})
