import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { generateSigningKeys } from '@gatehouse/dev-idp'
import { idpConfigFromMetadata, idpConfigFromValues, SamlConfigError, serviceProviderUrls } from '../src/index.ts'
import { fixtureText } from './entra-fixtures.ts'
import { costliestAllowedMetadata, hostileMetadata } from './hostile-metadata.ts'

const entityId = 'https://sts.windows.net/5b5c94c6-14cf-42da-85bc-4e08722b253b/'
const ssoUrl = 'https://login.microsoftonline.com/5b5c94c6-14cf-42da-85bc-4e08722b253b/saml2'
const insideValidity = new Date('2023-01-01T00:00:00Z')
const tercenPem = fixtureText('tercen-2022.cert.pem')
const localFixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
const tercenBase64 = tercenPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')

function configError(run: () => unknown): SamlConfigError {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof SamlConfigError)
    return error
  }
  assert.fail('the configuration was accepted')
}

describe('IdP configuration from the three Entra values', () => {
  for (const [shape, certificate] of [
    ['PEM with LF', tercenPem],
    ['PEM with CRLF (a downloaded .cer)', tercenPem.replace(/\n/g, '\r\n')],
    ['bare Base64 on one line', tercenBase64],
    [
      'Base64 with spaces and line breaks anywhere',
      `  ${tercenBase64.slice(0, 100)} \n ${tercenBase64.slice(100, 333)}\t${tercenBase64.slice(333)}  `,
    ],
  ] as const) {
    it(`accepts the certificate as ${shape}, with its fingerprint, subject and validity`, () => {
      const config = idpConfigFromValues({ ssoUrl, entityId, certificate }, { now: insideValidity })
      assert.equal(config.certificates.length, 1)
      const [described] = config.certificates
      assert.match(described?.fingerprintSha256 ?? '', /^78:D2:BE:38(:[0-9A-F]{2}){28}$/)
      assert.ok(described?.fingerprintSha256.endsWith(':82:33:47'))
      assert.equal(described?.subject, 'CN=Microsoft Azure Federated SSO Certificate')
      assert.equal(described?.notBefore, '2022-02-23T09:21:37.000Z')
      assert.equal(described?.notAfter, '2025-02-23T09:21:37.000Z')
      assert.deepEqual(config.warnings, [])
    })
  }

  it('refuses an expired certificate, naming its expiry date', () => {
    const error = configError(() =>
      idpConfigFromValues({ ssoUrl, entityId, certificate: tercenPem }, { now: new Date('2025-03-01T00:00:00Z') }),
    )
    assert.equal(error.reason, 'invalid_certificate')
    assert.match(error.fields.certificate ?? '', /expired on 2025-02-23/)
  })

  it('accepts a certificate that expires within 30 days, with a warning', () => {
    const config = idpConfigFromValues(
      { ssoUrl, entityId, certificate: tercenPem },
      { now: new Date('2025-02-10T00:00:00Z') },
    )
    assert.equal(config.certificates.length, 1)
    assert.equal(config.warnings.length, 1)
    assert.match(config.warnings[0] ?? '', /expires on 2025-02-23/)
  })

  it('refuses a private key, saying what it is', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    for (const certificate of [
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    ]) {
      const error = configError(() => idpConfigFromValues({ ssoUrl, entityId, certificate }, { now: insideValidity }))
      assert.equal(error.reason, 'invalid_certificate')
      assert.match(error.fields.certificate ?? '', /private key/)
    }
  })

  it('refuses a certificate signing request', () => {
    const csr =
      '-----BEGIN CERTIFICATE REQUEST-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE REQUEST-----\n'
    const error = configError(() =>
      idpConfigFromValues({ ssoUrl, entityId, certificate: csr }, { now: insideValidity }),
    )
    assert.match(error.fields.certificate ?? '', /signing request/)
  })

  it('refuses random text and Base64 that is not a certificate', () => {
    for (const certificate of [
      'hello, this is my certificate',
      Buffer.from('not a certificate at all').toString('base64'),
      '',
    ]) {
      const error = configError(() => idpConfigFromValues({ ssoUrl, entityId, certificate }, { now: insideValidity }))
      assert.equal(error.reason, 'invalid_certificate')
      assert.ok((error.fields.certificate ?? '').length > 0)
    }
  })

  it('refuses a certificate whose key is neither RSA nor EC, or an RSA key under 2048 bits', () => {
    const ed25519 = configError(() =>
      idpConfigFromValues({ ssoUrl, entityId, certificate: localFixture('ed25519.cert.pem') }, { now: insideValidity }),
    )
    assert.equal(ed25519.reason, 'invalid_certificate')
    assert.match(ed25519.fields.certificate ?? '', /ed25519.*only RSA and EC/)
    const rsa1024 = configError(() =>
      idpConfigFromValues(
        { ssoUrl, entityId, certificate: localFixture('rsa-1024.cert.pem') },
        { now: insideValidity },
      ),
    )
    assert.match(rsa1024.fields.certificate ?? '', /1024 bits; at least 2048/)
  })

  it('refuses a bare public key', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const certificate = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const error = configError(() => idpConfigFromValues({ ssoUrl, entityId, certificate }, { now: insideValidity }))
    assert.match(error.fields.certificate ?? '', /public key/)
  })

  it('accepts an EC certificate (P-256)', async () => {
    const keys = await generateSigningKeys({ keyType: 'ec' })
    const config = idpConfigFromValues({ ssoUrl, entityId, certificate: keys.certificatePem })
    assert.equal(config.certificates.length, 1)
  })

  it('refuses a Login URL that is not https, except for localhost', () => {
    for (const url of [
      'http://login.example.com/saml2',
      'ftp://login.example.com',
      'not a url',
      '',
      'https://user:pw@login.example.com/',
    ]) {
      const error = configError(() =>
        idpConfigFromValues({ ssoUrl: url, entityId, certificate: tercenPem }, { now: insideValidity }),
      )
      assert.equal(error.reason, 'invalid_url')
      assert.ok((error.fields.ssoUrl ?? '').length > 0, url)
    }
    for (const url of ['http://localhost:3003/t/saml2', 'http://127.0.0.1:3003/t/saml2']) {
      assert.equal(
        idpConfigFromValues({ ssoUrl: url, entityId, certificate: tercenPem }, { now: insideValidity }).ssoUrl,
        url,
      )
    }
  })

  it('refuses a plain-http Login URL on localhost too, unless development allows it', () => {
    for (const url of ['http://localhost:3003/t/saml2', 'http://127.0.0.1:3003/t/saml2']) {
      const error = configError(() =>
        idpConfigFromValues(
          { ssoUrl: url, entityId, certificate: tercenPem },
          { now: insideValidity, allowLoopbackHttp: false },
        ),
      )
      assert.equal(error.reason, 'invalid_url')
      assert.equal(error.fields.ssoUrl, 'The Login URL must use https.')
    }
  })

  it('refuses an empty or unbounded Entity ID', () => {
    for (const value of ['', '   ', 'x'.repeat(1025), 'https://sts.windows.net/ a/']) {
      const error = configError(() =>
        idpConfigFromValues({ ssoUrl, entityId: value, certificate: tercenPem }, { now: insideValidity }),
      )
      assert.equal(error.reason, 'invalid_url')
      assert.ok((error.fields.entityId ?? '').length > 0)
    }
  })
})

describe('IdP configuration from metadata XML', () => {
  it('refuses metadata with a DOCTYPE', () => {
    const error = configError(() =>
      idpConfigFromMetadata('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><EntityDescriptor/>'),
    )
    assert.equal(error.reason, 'invalid_metadata')
  })

  it('refuses text that is not XML, and XML without an IdP', () => {
    for (const xml of ['hello', '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>']) {
      const error = configError(() => idpConfigFromMetadata(xml))
      assert.equal(error.reason, 'invalid_metadata')
      assert.ok((error.fields.metadataXml ?? '').length > 0)
    }
  })

  it('refuses metadata whose every certificate has expired, with the expiry dates', () => {
    const error = configError(() =>
      idpConfigFromMetadata(fixtureText('nhs-2015-two-certs.federation-metadata.xml'), {
        now: new Date('2020-01-01T00:00:00Z'),
      }),
    )
    assert.equal(error.reason, 'invalid_certificate')
    assert.match(error.fields.certificate ?? '', /2016-01-01/)
    assert.match(error.fields.certificate ?? '', /2016-10-27/)
  })
})

describe('IdP metadata within bounds', () => {
  const genuine = fixtureText('ssoready-2023.federation-metadata.xml')

  for (const { name, metadataXml } of hostileMetadata(genuine)) {
    it(`refuses metadata with ${name}, saying why`, () => {
      const error = configError(() => idpConfigFromMetadata(metadataXml, { now: insideValidity }))
      assert.equal(error.reason, 'invalid_metadata')
      assert.match(error.fields.metadataXml ?? '', /larger than|far more|nested more|more than 10|DOCTYPE/)
    })
  }

  for (const { name, metadataXml } of costliestAllowedMetadata(genuine)) {
    it(`reads metadata with ${name} (the costliest the limits allow)`, () => {
      const config = idpConfigFromMetadata(metadataXml, { now: insideValidity })
      assert.equal(config.certificates.length, 1)
    })
  }
})

describe('service provider URLs', () => {
  it('derive from PUBLIC_URL and the connection id, as CONTRACT.md shows', () => {
    assert.deepEqual(serviceProviderUrls('https://app.example.com/', 'c1'), {
      entityId: 'https://app.example.com/sso/saml/c1',
      acsUrl: 'https://app.example.com/sso/saml/c1/acs',
      metadataUrl: 'https://app.example.com/sso/saml/c1/metadata',
      loginUrl: 'https://app.example.com/sso/saml/c1/login',
    })
  })

  it('keep a path prefix of PUBLIC_URL', () => {
    assert.equal(
      serviceProviderUrls(new URL('http://localhost:3000/gatehouse/'), 'abc').acsUrl,
      'http://localhost:3000/gatehouse/sso/saml/abc/acs',
    )
  })
})
