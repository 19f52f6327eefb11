import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openSealed, sealForServices } from '../src/sealed.ts'

const internalToken = 'a-shared-internal-token-of-32-characters-at-least'

describe('values sealed for the services', () => {
  it('opens what was sealed under the same token, and nothing else', () => {
    const sealed = sealForServices(internalToken, 'the end link token')
    assert.equal(openSealed(internalToken, sealed), 'the end link token')
    assert.notEqual(sealForServices(internalToken, 'the end link token'), sealed, 'a fresh IV each time')
    assert.ok(!sealed.includes('end link'))

    assert.equal(openSealed(`${internalToken}-rotated`, sealed), undefined)
    const tampered = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`
    assert.equal(openSealed(internalToken, tampered), undefined)
    for (const hostile of ['', 'short', 'not base64url!', 'A'.repeat(5000)]) {
      assert.equal(openSealed(internalToken, hostile), undefined, hostile.slice(0, 20))
    }
  })
})
