import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inflateRawSync } from 'node:zlib'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { DOMParser } from '@xmldom/xmldom'
import { createSamlConnection, idpConfigFromValues, MemoryReplayStore, serviceProviderUrls } from '../src/index.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_sp')

async function connection() {
  const idp = createDevIdp({ keys: await generateSigningKeys() })
  const idpConfig = idpConfigFromValues({
    ssoUrl: idp.loginUrl,
    entityId: idp.entityId,
    certificate: idp.certificateBase64,
  })
  return { idp, connection: createSamlConnection({ sp, idp: idpConfig, allowIdpInitiated: false }) }
}

describe('SP metadata', () => {
  it('describes the SP as Entra expects it: signed assertions wanted, email NameID, HTTP-POST ACS', async () => {
    const { connection: saml } = await connection()
    const document = new DOMParser().parseFromString(saml.spMetadataXml(), 'text/xml')
    const md = 'urn:oasis:names:tc:SAML:2.0:metadata'
    assert.equal(document.documentElement?.getAttribute('entityID'), sp.entityId)
    const descriptor = document.getElementsByTagNameNS(md, 'SPSSODescriptor')[0]
    assert.equal(descriptor?.getAttribute('WantAssertionsSigned'), 'true')
    assert.equal(descriptor?.getAttribute('AuthnRequestsSigned'), 'false')
    assert.equal(
      document.getElementsByTagNameNS(md, 'NameIDFormat')[0]?.textContent,
      'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    )
    const acs = document.getElementsByTagNameNS(md, 'AssertionConsumerService')[0]
    assert.equal(acs?.getAttribute('Binding'), 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST')
    assert.equal(acs?.getAttribute('Location'), sp.acsUrl)
    assert.equal(acs?.getAttribute('index'), '0')
    assert.equal(acs?.getAttribute('isDefault'), 'true')
  })
})

describe('AuthnRequest (HTTP-Redirect)', () => {
  it('redirects to the Login URL with a request the IdP reads back, carrying the RelayState', async () => {
    const { idp, connection: saml } = await connection()
    const now = new Date('2030-01-02T03:04:05.000Z')
    const { redirectUrl, requestId } = saml.createAuthnRequest({ relayState: 'rs-123', now })
    const url = new URL(redirectUrl)
    assert.equal(`${url.origin}${url.pathname}`, idp.loginUrl)
    assert.equal(url.searchParams.get('RelayState'), 'rs-123')
    const parsed = idp.parseAuthnRequest({
      SAMLRequest: url.searchParams.get('SAMLRequest') ?? '',
      RelayState: 'rs-123',
    })
    assert.equal(parsed.id, requestId)
    assert.equal(parsed.issuer, sp.entityId)
    assert.equal(parsed.acsUrl, sp.acsUrl)
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString()
    assert.match(xml, /IssueInstant="2030-01-02T03:04:05.000Z"/)
    assert.match(xml, /Destination="[^"]+\/saml2"/)
  })

  it('issues a fresh, unguessable request ID each time, and the response to it is accepted', async () => {
    const { idp, connection: saml } = await connection()
    const first = saml.createAuthnRequest({})
    const second = saml.createAuthnRequest({})
    assert.notEqual(first.requestId, second.requestId)
    assert.match(first.requestId, /^id[0-9a-f]{40}$/)
    const identity = await saml.validateResponse({
      samlResponse: idp.responseBase64({ sp, user: { email: 'a@example.com' }, inResponseTo: second.requestId }),
      expectedRequestId: second.requestId,
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.inResponseTo, second.requestId)
  })

  it('refuses a RelayState over the 80 bytes saml-bindings 3.4.3 allows', async () => {
    const { connection: saml } = await connection()
    assert.throws(() => saml.createAuthnRequest({ relayState: 'x'.repeat(81) }), RangeError)
  })
})
