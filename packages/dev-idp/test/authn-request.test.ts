import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import { skipUnlessInstalled } from '@gatehouse/testing'
import { DevIdpError, parseAuthnRequest, samlSchemaToolMissing } from '../src/index.ts'

// An AuthnRequest as SPs send it (samlify's layout), DEFLATE-compressed and base64-encoded.
function redirectEncoded(xml: string): string {
  return deflateRawSync(Buffer.from(xml)).toString('base64')
}

const authnRequest =
  '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ' +
  'ID="_req-1" Version="2.0" IssueInstant="2025-06-01T12:00:00Z" Destination="http://localhost:3003/t/saml2" ' +
  'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" AssertionConsumerServiceURL="https://app.example.test/acs">' +
  '<saml:Issuer>https://app.example.test/sp</saml:Issuer>' +
  '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/>' +
  '</samlp:AuthnRequest>'

function isInvalid(error: unknown): boolean {
  return error instanceof DevIdpError && error.reason === 'invalid_authn_request'
}

const loginUrl = 'http://localhost:3003/t/saml2'
const issuedAt = new Date('2025-06-01T12:00:00Z')

/** The AADSTS code the request is refused with, as this IdP at `now` sees it; null when accepted. */
function entraCodeFor(xml: string, now = issuedAt): string | null {
  try {
    parseAuthnRequest({ SAMLRequest: redirectEncoded(xml) }, { loginUrl, now })
    return null
  } catch (error) {
    if (!(error instanceof DevIdpError)) throw error
    return error.entraCode ?? error.reason
  }
}

describe('parseAuthnRequest', () => {
  it('reads the ID, the SP Issuer, the requested ACS URL and the RelayState', () => {
    const parsed = parseAuthnRequest({ SAMLRequest: redirectEncoded(authnRequest), RelayState: '/after?x=1' })
    assert.deepEqual(parsed, {
      id: '_req-1',
      issuer: 'https://app.example.test/sp',
      acsUrl: 'https://app.example.test/acs',
      relayState: '/after?x=1',
    })
  })

  it('has no acsUrl or relayState when the request has none', () => {
    const bare = authnRequest.replace(/ AssertionConsumerServiceURL="[^"]*"/, '')
    assert.deepEqual(parseAuthnRequest({ SAMLRequest: redirectEncoded(bare) }), {
      id: '_req-1',
      issuer: 'https://app.example.test/sp',
    })
  })

  it('restores a + that a careless decoder turned into a space', () => {
    const encoded = redirectEncoded(authnRequest)
    assert.equal(parseAuthnRequest({ SAMLRequest: encoded.replace(/\+/g, ' ') }).id, '_req-1')
  })

  it('refuses what is not a deflated, well-formed samlp:AuthnRequest with an ID and an Issuer', () => {
    const cases = [
      '',
      'not base64 !',
      Buffer.from(authnRequest).toString('base64'),
      redirectEncoded('<samlp:AuthnRequest'),
      redirectEncoded('<LogoutRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x"/>'),
      redirectEncoded(authnRequest.replace(' ID="_req-1"', '')),
      redirectEncoded(authnRequest.replace(/<saml:Issuer>.*<\/saml:Issuer>/, '')),
      redirectEncoded(`<!DOCTYPE x [<!ENTITY e "boom">]>${authnRequest}`),
    ]
    for (const SAMLRequest of cases) {
      assert.throws(() => parseAuthnRequest({ SAMLRequest }), isInvalid, `accepted ${SAMLRequest.slice(0, 40)}`)
    }
  })

  it('refuses a request that inflates to more than any real AuthnRequest (a deflate bomb)', () => {
    const bomb = redirectEncoded(
      authnRequest.replace('</samlp:AuthnRequest>', `${' '.repeat(1_000_000)}</samlp:AuthnRequest>`),
    )
    assert.ok(bomb.length < 16 * 1024, 'the bomb itself is small')
    assert.throws(() => parseAuthnRequest({ SAMLRequest: bomb }), isInvalid)
  })

  it('holds the request to saml-core §3.4.1 as Entra and strict IdPs do, each refusal with its AADSTS code', () => {
    const withAttributes = (attributes: string) => authnRequest.replace(' Version="2.0"', ` Version="2.0"${attributes}`)
    const minutes = (count: number) => new Date(issuedAt.getTime() + count * 60_000)
    const cases: [string, string, Date?][] = [
      [withAttributes(' ForceAuthn="{ForceAuthn}"'), 'AADSTS75005'],
      [withAttributes(' IsPassive="yes"'), 'AADSTS75005'],
      [withAttributes(' AssertionConsumerServiceIndex="0"'), 'AADSTS900236'],
      [authnRequest.replace('bindings:HTTP-POST', 'bindings:HTTP-Artifact'), 'AADSTS75003'],
      [authnRequest.replace('Version="2.0"', 'Version="1.1"'), 'AADSTS75005'],
      [authnRequest.replace(loginUrl, 'http://localhost:3003/other/saml2'), 'AADSTS75008'],
      [authnRequest.replace(` Destination="${loginUrl}"`, ''), 'AADSTS75008'],
      [authnRequest.replace('2025-06-01T12:00:00Z', '2025-06-01T13:00:00+01:00'), 'AADSTS75005'],
      [authnRequest, 'AADSTS76026', minutes(11)],
      [authnRequest, 'AADSTS75005', minutes(-6)],
    ]
    for (const [xml, expected, now] of cases) {
      assert.equal(entraCodeFor(xml, now), expected, xml)
    }
    assert.equal(entraCodeFor(withAttributes(' ForceAuthn="true" IsPassive="0"')), null)
    assert.equal(entraCodeFor(authnRequest, minutes(9)), null)
  })

  it('refuses a request the OASIS protocol schema refuses (AADSTS75005)', {
    skip: skipUnlessInstalled(samlSchemaToolMissing()),
  }, () => {
    const nameIdPolicyFirst = authnRequest.replace(
      /(<saml:Issuer>.*<\/saml:Issuer>)(<samlp:NameIDPolicy[^>]*\/>)/,
      '$2$1',
    )
    assert.notEqual(nameIdPolicyFirst, authnRequest)
    assert.equal(entraCodeFor(nameIdPolicyFirst), 'AADSTS75005')
    assert.throws(
      () => parseAuthnRequest({ SAMLRequest: redirectEncoded(nameIdPolicyFirst) }),
      (error: DevIdpError) => /not a valid SAML 2\.0 AuthnRequest.*Issuer/.test(error.message),
    )
    assert.equal(entraCodeFor(authnRequest.replace('ID="_req-1"', 'ID="1-starts-with-a-digit"')), 'AADSTS75005')
  })
})
