// Unauthenticated SP-initiated starts each left a pending sign-in in Redis for 10 minutes, and
// Redis runs `noeviction`: one client once held ~300 MB with `returnTo` values of 2,000
// characters. Now a start keeps nothing on the server (the browser holds it in a signed cookie,
// returnTo capped at 512 characters) and starts are limited per network (120 a minute): what one
// /64 makes Redis hold is the limit's counter. Measured on a Redis of the test's own.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRedis, pingRedis } from '@gatehouse/server/redis'
import { type RedisProcess, startRedisProcess, uniqueIp } from '@gatehouse/testing'
import { type AuthTestApp, startAuthApp, workspaceWithSso } from './harness.ts'

// The bounds this test states for 2,000 starts from one /64 (each would have left 2 KB or more if
// a start kept anything, 4 MB in all): what the keys they leave may hold, and what Redis's used
// memory may grow by (allocator and buffers included).
const starts = 2_000
const keptBoundBytes = 1024
const growthBoundBytes = 1024 * 1024

describe('SP-initiated starts from one network', () => {
  let redisProcess: RedisProcess
  let auth: AuthTestApp
  before(async () => {
    redisProcess = await startRedisProcess()
    auth = await startAuthApp({ REDIS_URL: redisProcess.url })
  })
  after(async () => {
    await auth?.close()
    await redisProcess?.stop()
  })

  it('leave Redis below 1 MiB of growth after 2,000 starts with 2,000-character returnTo values', async () => {
    const { connection } = await workspaceWithSso(auth.app)
    const redis = createRedis(redisProcess.url)
    await pingRedis(redis)
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])
    const network = `2001:db8:${uniqueIp().split('.').slice(1).join(':')}`
    const returnTo = encodeURIComponent(`/${'a'.repeat(1_999)}`)
    const before = await usedMemory()
    const statuses = new Map<number, number>()
    // Each run of starts let through: the limit's window opens with the first and lasts a minute,
    // which the starts can outlast on a busy machine.
    const admittedRuns: number[] = []
    let previousStatus = 0
    for (let start = 0; start < starts; start++) {
      const response = await auth.app.inject({
        method: 'GET',
        url: `/sso/saml/${connection.id}/login?returnTo=${returnTo}`,
        remoteAddress: `${network}:${(start % 65_535).toString(16)}::1`,
        headers: { accept: 'application/json' },
      })
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      if (response.statusCode === 302) {
        if (previousStatus === 302) admittedRuns[admittedRuns.length - 1] = (admittedRuns.at(-1) ?? 0) + 1
        else admittedRuns.push(1)
      }
      previousStatus = response.statusCode
    }
    const growth = (await usedMemory()) - before
    const pending = await redis.keys('saml:pending:*')
    const kept = [...pending, ...(await redis.keys('ratelimit:sso-start*'))]
    let keptBytes = 0
    for (const key of kept) keptBytes += Number(await redis.memory('USAGE', key))
    redis.disconnect()
    console.log(
      `${starts} starts: ${JSON.stringify([...statuses])}; ${pending.length} pending sign-ins; their keys and the limit's hold ${keptBytes} bytes; used_memory grew ${growth} bytes`,
    )
    assert.deepEqual([...statuses.keys()].sort(), [302, 429])
    // 120 starts a window, then 429 until the next one; the last window may end with the loop.
    assert.equal(admittedRuns[0], 120)
    assert.deepEqual(
      admittedRuns.slice(0, -1),
      Array(admittedRuns.length - 1).fill(120),
      `admitted runs: ${admittedRuns}`,
    )
    assert.ok((admittedRuns.at(-1) ?? 0) <= 120, `admitted runs: ${admittedRuns}`)
    assert.equal(pending.length, 0)
    assert.ok(keptBytes < keptBoundBytes, `the keys hold ${keptBytes} bytes`)
    assert.ok(growth < growthBoundBytes, `Redis grew ${growth} bytes`)
  })
})
