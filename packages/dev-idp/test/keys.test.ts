import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { DevIdpError, generateSigningKeys, loadOrCreateSigningKeys } from '../src/index.ts'

describe('generateSigningKeys', () => {
  it("makes an RSA-2048 key and a self-signed certificate with the subject of Entra's certificates", async () => {
    const keys = await generateSigningKeys()
    const certificate = new X509Certificate(keys.certificatePem)
    const key = createPrivateKey(keys.privateKeyPem)
    assert.equal(key.asymmetricKeyType, 'rsa')
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048)
    assert.equal(certificate.subject, 'CN=Microsoft Azure Federated SSO Certificate')
    assert.equal(certificate.issuer, certificate.subject)
    assert.ok(certificate.checkPrivateKey(key))
    assert.ok(certificate.verify(certificate.publicKey))
    const notBefore = new Date(certificate.validFrom).getTime()
    const notAfter = new Date(certificate.validTo).getTime()
    assert.ok(notBefore <= Date.now() && notBefore > Date.now() - 2 * 3600_000)
    assert.ok(notAfter > Date.now() + 2.9 * 365 * 24 * 3600_000)
  })

  it('makes an EC P-256 key when asked, with the given name and validity taken literally', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z')
    const notAfter = new Date('2021-01-01T00:00:00Z')
    const keys = await generateSigningKeys({ keyType: 'ec', commonName: 'Test, Inc=1', notBefore, notAfter })
    const key = createPrivateKey(keys.privateKeyPem)
    assert.equal(key.asymmetricKeyType, 'ec')
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    const certificate = new X509Certificate(keys.certificatePem)
    assert.equal(certificate.subject, 'CN=Test\\, Inc=1', 'one CN holding the comma, not a DN parsed from it')
    assert.equal(new Date(certificate.validFrom).getTime(), notBefore.getTime())
    assert.equal(new Date(certificate.validTo).getTime(), notAfter.getTime())
  })

  it('refuses a validity that ends before it starts', async () => {
    await assert.rejects(
      generateSigningKeys({ notBefore: new Date('2030-01-01'), notAfter: new Date('2029-01-01') }),
      (error: unknown) => error instanceof DevIdpError && error.reason === 'invalid_option',
    )
  })
})

describe('loadOrCreateSigningKeys', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dev-idp-keys-'))
  after(() => rmSync(dataDir, { recursive: true, force: true }))

  it('creates the keys at the first start and returns the same ones afterwards, the key readable by its owner only', async () => {
    const first = await loadOrCreateSigningKeys(dataDir)
    const second = await loadOrCreateSigningKeys(dataDir)
    assert.deepEqual(second, first)
    assert.equal(statSync(join(dataDir, 'dev-idp', 'signing-key.pem')).mode & 0o777, 0o600)
  })

  it("refuses stored keys whose certificate is not the key's", async () => {
    const other = await generateSigningKeys()
    writeFileSync(join(dataDir, 'dev-idp', 'signing-certificate.pem'), other.certificatePem)
    await assert.rejects(
      loadOrCreateSigningKeys(dataDir),
      (error: unknown) => error instanceof DevIdpError && error.reason === 'invalid_signing_keys',
    )
  })
})
