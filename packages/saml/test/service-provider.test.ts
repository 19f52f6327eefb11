import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inflateRawSync } from 'node:zlib'
import { createDevIdp, generateSigningKeys, samlSchemaToolMissing, validateAgainstSamlSchema } from '@gatehouse/dev-idp'
import { skipUnlessInstalled } from '@gatehouse/testing'
import { DOMParser } from '@xmldom/xmldom'
import { createSamlConnection, idpConfigFromValues, MemoryReplayStore, serviceProviderUrls } from '../src/index.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_sp')

const schemaTool = { skip: skipUnlessInstalled(samlSchemaToolMissing()) }
const protocolNs = 'urn:oasis:names:tc:SAML:2.0:protocol'

async function connection(ssoUrl?: string) {
  const idp = createDevIdp({ keys: await generateSigningKeys() })
  const idpConfig = idpConfigFromValues({
    ssoUrl: ssoUrl ?? idp.loginUrl,
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

  it('is valid against the OASIS SAML 2.0 metadata schema', schemaTool, async () => {
    const { connection: saml } = await connection()
    const xml = saml.spMetadataXml()
    assert.deepEqual(validateAgainstSamlSchema(xml, 'metadata'), { valid: true })
    assert.ok(!xml.includes('{'), xml)
  })
})

/** The AuthnRequest XML carried by a redirect URL (saml-bindings 3.4.4.1: base64 of raw DEFLATE). */
function inflatedRequest(redirectUrl: string): string {
  const encoded = new URL(redirectUrl).searchParams.get('SAMLRequest') ?? ''
  return inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8')
}

describe('AuthnRequest (HTTP-Redirect)', () => {
  it('redirects to the Login URL with a request the IdP reads back, carrying the RelayState', async () => {
    const { idp, connection: saml } = await connection()
    const now = new Date('2030-01-02T03:04:05.000Z')
    const { redirectUrl, requestId } = saml.createAuthnRequest({ relayState: 'rs-123', now })
    const url = new URL(redirectUrl)
    assert.equal(`${url.origin}${url.pathname}`, idp.loginUrl)
    assert.equal(url.searchParams.get('RelayState'), 'rs-123')
    const parsed = idp.parseAuthnRequest(
      { SAMLRequest: url.searchParams.get('SAMLRequest') ?? '', RelayState: 'rs-123' },
      { now },
    )
    assert.equal(parsed.id, requestId)
    assert.equal(parsed.issuer, sp.entityId)
    assert.equal(parsed.acsUrl, sp.acsUrl)
    const xml = inflatedRequest(redirectUrl)
    assert.match(xml, /IssueInstant="2030-01-02T03:04:05.000Z"/)
    assert.match(xml, /Destination="[^"]+\/saml2"/)
  })

  it('is valid against the OASIS SAML 2.0 protocol schema, with no placeholder left in', schemaTool, async () => {
    // An SSO URL carrying its own query, with characters XML must escape in the Destination attribute.
    const ssoUrl = "https://idp.example/sso?idpid=C0abc&tenant=it's"
    const { connection: saml } = await connection(ssoUrl)
    for (const options of [{}, { relayState: 'rs-1' }, { relayState: 'x'.repeat(80), loginHint: 'ada@example.com' }]) {
      const { redirectUrl } = saml.createAuthnRequest(options)
      const xml = inflatedRequest(redirectUrl)
      assert.deepEqual(validateAgainstSamlSchema(xml, 'protocol'), { valid: true }, xml)
      assert.ok(!xml.includes('{'), xml)
      assert.ok(!decodeURIComponent(redirectUrl).includes('{'), redirectUrl)
      assert.equal(
        new DOMParser().parseFromString(xml, 'text/xml').documentElement?.getAttribute('Destination'),
        ssoUrl,
      )
    }
  })

  it('asks for an HTTP-POST response at the ACS URL and an email NameID, and sets nothing it has no value for', async () => {
    const { connection: saml } = await connection()
    const { redirectUrl, requestId } = saml.createAuthnRequest({ now: new Date('2030-01-02T03:04:05.000Z') })
    const document = new DOMParser().parseFromString(inflatedRequest(redirectUrl), 'text/xml')
    const request = document.documentElement
    assert.ok(request)
    const attributes = Object.fromEntries(
      Array.from(request.attributes)
        .filter((attribute) => !attribute.name.startsWith('xmlns'))
        .map((attribute) => [attribute.name, attribute.value]),
    )
    assert.deepEqual(attributes, {
      ID: requestId,
      Version: '2.0',
      IssueInstant: '2030-01-02T03:04:05.000Z',
      Destination: new URL(redirectUrl).origin + new URL(redirectUrl).pathname,
      AssertionConsumerServiceURL: sp.acsUrl,
      ProtocolBinding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
    })
    const policy = document.getElementsByTagNameNS(protocolNs, 'NameIDPolicy')[0]
    assert.equal(policy?.getAttribute('Format'), 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')
    assert.equal(policy?.getAttribute('AllowCreate'), 'false')
  })

  it('keeps the query of an SSO URL and sends the typed email as login_hint', async () => {
    const { connection: saml } = await connection('https://accounts.google.com/o/saml2/idp?idpid=C01abc')
    const { redirectUrl } = saml.createAuthnRequest({ relayState: 'rs', loginHint: 'ada+sso@example.com' })
    const url = new URL(redirectUrl)
    assert.equal(`${url.origin}${url.pathname}`, 'https://accounts.google.com/o/saml2/idp')
    assert.deepEqual([...url.searchParams.keys()], ['idpid', 'SAMLRequest', 'RelayState', 'login_hint'])
    assert.equal(url.searchParams.get('idpid'), 'C01abc')
    assert.equal(url.searchParams.get('login_hint'), 'ada+sso@example.com')
  })

  it('refuses a login_hint that is not an email address', async () => {
    const { connection: saml } = await connection()
    for (const loginHint of ['', 'not-an-email', `${'a'.repeat(250)}@example.com`, 'a@b.com&SAMLRequest=x']) {
      assert.throws(() => saml.createAuthnRequest({ loginHint }), RangeError, loginHint)
    }
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
