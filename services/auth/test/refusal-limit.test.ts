import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRedis, pingRedis } from '@gatehouse/server/redis'
import { redisUrl, uniqueSuffix } from '@gatehouse/testing'
import { createRefusalLimit } from '../src/sso/refusal-limit.ts'

describe('the ACS refusal limit', () => {
  const redis = createRedis(redisUrl)
  before(() => pingRedis(redis))
  after(() => redis.disconnect())

  it('turns away a whole IPv6 /64 once its addresses together pass the limit', async () => {
    const prefix = `2001:db8:${Number.parseInt(uniqueSuffix().slice(0, 4), 16).toString(16)}:1`
    const limit = createRefusalLimit(redis, { limit: 3 })
    for (let host = 1; host <= 4; host++) await limit.count(`${prefix}::${host}`)
    assert.equal(limit.exceeded(`${prefix}::99`), true, 'a fresh address of the same /64')
    assert.equal(limit.exceeded(`${prefix.replace(/:1$/, ':2')}::1`), false, 'another /64')
  })
})
