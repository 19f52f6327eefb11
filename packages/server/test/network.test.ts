import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { networkOf } from '../src/http/index.ts'

describe('the network a per-address limit counts', () => {
  it('is an IPv4 address itself, also when it arrives IPv4-mapped', () => {
    assert.equal(networkOf('203.0.113.9'), '203.0.113.9')
    assert.equal(networkOf('::ffff:203.0.113.9'), '203.0.113.9')
  })

  it('is the /64 of an IPv6 address, however the address is written', () => {
    assert.equal(networkOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
    assert.equal(networkOf('2001:DB8:1:2::9'), '2001:db8:1:2::/64')
    assert.equal(networkOf('2001:0db8:0001:0002::'), '2001:db8:1:2::/64')
    assert.equal(networkOf('::1'), '0:0:0:0::/64')
    assert.notEqual(networkOf('2001:db8:1:2::9'), networkOf('2001:db8:1:3::9'))
  })
})
