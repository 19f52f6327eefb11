import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BoundedCache } from '../src/bounded-cache.ts'

describe('a bounded cache', () => {
  it('never holds more than its capacity: the least recently set entry goes first', () => {
    const cache = new BoundedCache<string, number>({ capacity: 2 })
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('a', 10)
    cache.set('c', 3)
    assert.equal(cache.size, 2)
    assert.equal(cache.get('b'), undefined)
    assert.equal(cache.get('a'), 10)
    assert.equal(cache.get('c'), 3)
  })

  it('forgets an entry once its time is up, by the default lifetime or its own', () => {
    let now = 1_000
    const cache = new BoundedCache<string, string>({ capacity: 10, ttlMs: 500, now: () => now })
    cache.set('short', 'x', 100)
    cache.set('default', 'y')
    now += 100
    assert.equal(cache.get('short'), undefined)
    assert.equal(cache.get('default'), 'y')
    now += 400
    assert.equal(cache.get('default'), undefined)
    assert.equal(cache.size, 0)
  })

  it('drops an entry on request', () => {
    const cache = new BoundedCache<string, string>({ capacity: 10 })
    cache.set('k', 'v')
    cache.delete('k')
    assert.equal(cache.get('k'), undefined)
  })

  it('drops the entries whose value matches, and keeps the others', () => {
    const cache = new BoundedCache<string, { sessions: string[] }>({ capacity: 10 })
    cache.set('a', { sessions: ['s1'] })
    cache.set('b', { sessions: ['s2', 's3'] })
    cache.set('c', { sessions: ['s4'] })
    cache.deleteWhere((value) => value.sessions.includes('s3') || value.sessions.includes('s1'))
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [undefined, undefined, { sessions: ['s4'] }])
    assert.equal(cache.size, 1)
  })
})
