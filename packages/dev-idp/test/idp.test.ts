import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { Element } from '@xmldom/xmldom'
import {
  createDevIdp,
  DevIdpError,
  type DevIdpErrorReason,
  generateSigningKeys,
  type SigningKeys,
} from '../src/index.ts'
import { parse, verifiedReferences } from './verify-with-xml-crypto.ts'

const tenantId = 'a9054a0f-2011-4e31-b3ac-fd8c354146ec'

describe('createDevIdp', () => {
  let keys: SigningKeys
  before(async () => {
    keys = await generateSigningKeys()
  })

  it('names itself the way Entra does for a tenant', () => {
    const idp = createDevIdp({ keys, tenantId, baseUrl: 'http://127.0.0.1:4000/' })
    assert.equal(idp.entityId, `https://sts.windows.net/${tenantId}/`)
    assert.equal(idp.loginUrl, `http://127.0.0.1:4000/${tenantId}/saml2`)
    assert.equal(idp.logoutUrl, idp.loginUrl)
    assert.equal(idp.metadataUrl, `http://127.0.0.1:4000/${tenantId}/federationmetadata/2007-06/federationmetadata.xml`)
    assert.equal(createDevIdp({ keys }).loginUrl, `http://localhost:3003/${createDevIdp({ keys }).tenantId}/saml2`)
  })

  it("gives the certificate as a CRLF PEM like Entra's .cer download and as one line of base64", () => {
    const idp = createDevIdp({ keys })
    const lines = idp.certificatePem.split('\r\n')
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----')
    assert.equal(lines.at(-2), '-----END CERTIFICATE-----')
    assert.equal(lines.at(-1), '')
    assert.doesNotMatch(idp.certificatePem.replace(/\r\n/g, ''), /\n/)
    assert.equal(lines.slice(1, -2).join(''), idp.certificateBase64)
    assert.match(idp.certificateBase64, /^[A-Za-z0-9+/]+=*$/)
  })

  it('publishes signed federation metadata with the certificate and both sign-on bindings', () => {
    const idp = createDevIdp({ keys, tenantId })
    const xml = idp.federationMetadataXml()
    assert.equal(verifiedReferences(xml, idp.certificatePem).length, 1)
    const document = parse(xml)
    assert.equal(document.documentElement?.getAttribute('entityID'), idp.entityId)
    const descriptor = document.getElementsByTagNameNS('*', 'IDPSSODescriptor')[0] as Element
    const keyDescriptor = descriptor.getElementsByTagNameNS('*', 'KeyDescriptor')[0] as Element
    assert.equal(keyDescriptor.getAttribute('use'), 'signing')
    assert.equal(keyDescriptor.getElementsByTagNameNS('*', 'X509Certificate')[0]?.textContent, idp.certificateBase64)
    const services = Array.from(descriptor.getElementsByTagNameNS('*', 'SingleSignOnService')) as Element[]
    assert.deepEqual(
      services.map((service) => [service.getAttribute('Binding'), service.getAttribute('Location')]),
      [
        ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', idp.loginUrl],
        ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', idp.loginUrl],
      ],
    )
  })

  it('refuses a tenant ID that is not a UUID, a base URL that is not http(s), and keys that do not match', async () => {
    const isInvalid = (reason: DevIdpErrorReason) => (error: unknown) =>
      error instanceof DevIdpError && error.reason === reason
    assert.throws(() => createDevIdp({ keys, tenantId: '../x' }), isInvalid('invalid_option'))
    assert.throws(() => createDevIdp({ keys, baseUrl: 'javascript:alert(1)' }), isInvalid('invalid_option'))
    const other = await generateSigningKeys({ keyType: 'ec' })
    assert.throws(
      () => createDevIdp({ keys: { privateKeyPem: other.privateKeyPem, certificatePem: keys.certificatePem } }),
      isInvalid('invalid_signing_keys'),
    )
  })
})
