import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import { DevIdpError, parseAuthnRequest } from '../src/index.ts'

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
  return error instanceof DevIdpError && error.code === 'invalid_authn_request'
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
})
