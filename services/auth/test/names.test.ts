import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cleanName } from '../src/accounts/names.ts'

describe('cleanName', () => {
  it('keeps what a page can show and Postgres can store, at most 100 characters', () => {
    assert.equal(cleanName('  Ada\u0000\u0007\u0085 Lovelace '), 'Ada Lovelace')
    assert.equal(cleanName('Jos\u00e9 \ud800'), 'Jos\u00e9 \ufffd', 'an unpaired surrogate becomes U+FFFD')
    assert.equal(cleanName('😀'.repeat(150)), '😀'.repeat(100), 'cut by characters, never inside a pair')
    assert.equal(cleanName(' \u0000 '), null)
    assert.equal(cleanName(undefined), null)
  })
})
