import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redisUrl, uniqueSuffix, unreachableRedisUrl } from '@gatehouse/testing'
import { closeRedis, createRedis, isRedisUnavailable, pingRedis, RedisUnavailableError } from '../src/index.ts'

describe('a Redis client from createRedis', () => {
  it('fails a command with RedisUnavailableError while Redis cannot be reached, scripts and pipelines too', async () => {
    const redis = createRedis(unreachableRedisUrl)
    try {
      for (const command of [
        () => redis.get('key'),
        () => redis.eval('return 1', 0),
        () => redis.multi().incr('key').exec(),
      ]) {
        await assert.rejects(command(), (error: unknown) => {
          assert.ok(error instanceof RedisUnavailableError, String(error))
          return isRedisUnavailable(error)
        })
      }
      await assert.rejects(pingRedis(redis, 200), RedisUnavailableError)
    } finally {
      await closeRedis(redis)
    }
  })

  it('passes on what Redis itself refuses as that error, not as an outage', async () => {
    const redis = createRedis(redisUrl)
    const key = `gatehouse:test:redis-errors:${uniqueSuffix()}`
    try {
      await pingRedis(redis)
      await redis.set(key, 'text', 'EX', 60)
      await assert.rejects(redis.incr(key), (error: unknown) => {
        assert.equal(isRedisUnavailable(error), false)
        assert.match(String(error), /not an integer/)
        return true
      })
    } finally {
      await redis.del(key)
      await closeRedis(redis)
    }
  })
})
