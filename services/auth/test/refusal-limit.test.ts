import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRedis, pingRedis } from '@gatehouse/server'
import { redisUrl, uniqueSuffix } from '@gatehouse/testing'
import { createRefusalLimit, subjectOf } from '../src/sso/refusal-limit.ts'

describe('the ACS refusal limit', () => {
  const redis = createRedis(redisUrl)
  before(() => pingRedis(redis))
  after(() => redis.disconnect())

  it('counts an IPv4 address alone and an IPv6 address by its /64', () => {
    assert.equal(subjectOf('203.0.113.9'), '203.0.113.9')
    assert.equal(subjectOf('2001:db8:1:2:3:4:5:6'), subjectOf('2001:DB8:1:2::9'))
    assert.notEqual(subjectOf('2001:db8:1:2::9'), subjectOf('2001:db8:1:3::9'))
    assert.equal(subjectOf('::ffff:203.0.113.9'), '::ffff:203.0.113.9')
  })

  it('turns away a whole IPv6 /64 once its addresses together pass the limit', async () => {
    const prefix = `2001:db8:${Number.parseInt(uniqueSuffix().slice(0, 4), 16).toString(16)}:1`
    const limit = createRefusalLimit(redis, { limit: 3 })
    for (let host = 1; host <= 4; host++) await limit.count(`${prefix}::${host}`)
    assert.equal(limit.exceeded(`${prefix}::99`), true, 'a fresh address of the same /64')
    assert.equal(limit.exceeded(`${prefix.replace(/:1$/, ':2')}::1`), false, 'another /64')
  })
})
