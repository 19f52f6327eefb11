import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { returnToCases } from '@gatehouse/testing'
import { sameOriginPath } from '../src/return-to.js'

describe('where a person may be sent after signing in', () => {
  for (const { value, expected } of returnToCases) {
    it(`${expected === null ? 'refuses' : 'keeps'} ${JSON.stringify(value.slice(0, 40))}`, () => {
      assert.equal(sameOriginPath(value, 'https://app.example'), expected)
    })
  }

  it('refuses a path that is within the limit as typed but past it once percent-encoded', () => {
    assert.equal(sameOriginPath(`/${'\u00e9'.repeat(80)}`, 'https://app.example')?.length, 481)
    assert.equal(sameOriginPath(`/${'\u00e9'.repeat(511)}`, 'https://app.example'), null)
  })

  it('refuses what is not text', () => {
    for (const value of [42, null, undefined, ['/'], { toString: () => '/' }]) {
      assert.equal(sameOriginPath(value, 'https://app.example'), null)
    }
  })
})
