import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { thresholdReached } from '../src/sso/certificate-expiry.ts'

const dayMs = 24 * 60 * 60 * 1000

describe('which expiry notice a certificate has reached', () => {
  const notAfter = new Date('2027-06-01T00:00:00Z')
  const daysBefore = (days: number) => new Date(notAfter.getTime() - days * dayMs)

  it('is the smallest threshold (30, 7, 1 days) not yet passed, and none before 30 days or once expired', () => {
    assert.equal(thresholdReached(notAfter, daysBefore(30.01)), null)
    assert.equal(thresholdReached(notAfter, daysBefore(30)), 30)
    assert.equal(thresholdReached(notAfter, daysBefore(8)), 30)
    // A certificate first seen with 5 days left gets the 7-day notice alone, not the 30-day one too.
    assert.equal(thresholdReached(notAfter, daysBefore(5)), 7)
    assert.equal(thresholdReached(notAfter, daysBefore(1)), 1)
    assert.equal(thresholdReached(notAfter, daysBefore(0.01)), 1)
    assert.equal(thresholdReached(notAfter, notAfter), null)
    assert.equal(thresholdReached(notAfter, daysBefore(-3)), null)
  })
})
