import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEmailAddress, normalizeEmail } from '../src/email.ts'

describe('an email address', () => {
  it('is a dot-atom local part at a host name of two or more labels', () => {
    for (const address of ['ada@example.com', 'Ada.Lovelace+sso@Sub.Example.CO', "o'brien@corp.test"]) {
      assert.ok(isEmailAddress(address), address)
    }
  })

  it('may carry Entra guest accounts’ #EXT# in the local part', () => {
    assert.ok(isEmailAddress('jo_example.com#EXT#@tenant.onmicrosoft.com'))
  })

  it('refuses what is not one', () => {
    const refused = [
      '',
      'ada',
      '@example.com',
      'ada@',
      'ada@localhost',
      'ada@example.123',
      'ada..lovelace@example.com',
      '.ada@example.com',
      'ada @example.com',
      'ada@-example.com',
      'ada@example..com',
      '"ada"@example.com',
      `${'a'.repeat(65)}@example.com`,
      `ada@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com`,
    ]
    for (const address of refused) assert.equal(isEmailAddress(address), false, address)
  })

  it('is compared in its canonical form: trimmed and lower-cased', () => {
    assert.equal(normalizeEmail('  Ada@Example.COM '), 'ada@example.com')
    assert.equal(normalizeEmail('not an email'), null)
  })
})
