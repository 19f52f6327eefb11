import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { Element } from '@xmldom/xmldom'
import {
  DevIdpError,
  type DevIdpErrorReason,
  generateSigningKeys,
  type SigningKeys,
  signElement,
} from '../src/index.ts'
import { parse, verifiedReferences } from './verify-with-xml-crypto.ts'

const unsignedResponse =
  '<samlp:Response ID="_r1" Version="2.0" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">' +
  '<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://sts.windows.net/t/</Issuer>' +
  '<Assertion ID="_a1" Version="2.0" xmlns="urn:oasis:names:tc:SAML:2.0:assertion">' +
  '<Issuer>https://sts.windows.net/t/</Issuer><Subject><NameID>a@example.test</NameID></Subject></Assertion>' +
  '</samlp:Response>'

function isReason(reason: DevIdpErrorReason) {
  return (error: unknown) => error instanceof DevIdpError && error.reason === reason
}

describe('signElement', () => {
  let keys: SigningKeys
  before(async () => {
    keys = await generateSigningKeys()
  })

  it('signs the element with that ID, its Signature placed right after its Issuer, with the certificate in KeyInfo', () => {
    const xml = signElement(unsignedResponse, '_a1', { keys })
    const [references] = verifiedReferences(xml, keys.certificatePem)
    assert.match(references?.[0] ?? '', /^<Assertion [^>]*ID="_a1"/)
    const assertion = parse(xml).getElementsByTagNameNS('*', 'Assertion')[0] as Element
    const children = Array.from(assertion.childNodes).map((node) => (node as Element).localName)
    assert.deepEqual(children, ['Issuer', 'Signature', 'Subject'])
    assert.match(xml, /<KeyInfo><X509Data><X509Certificate>/)
    assert.match(xml, /xmldsig-more#rsa-sha256/)
  })

  it('signs the outer element without disturbing a signature inside it', () => {
    const xml = signElement(signElement(unsignedResponse, '_a1', { keys }), '_r1', { keys })
    const references = verifiedReferences(xml, keys.certificatePem)
    assert.equal(references.length, 2)
    const response = parse(xml).documentElement
    assert.ok(response)
    assert.equal((response.childNodes[1] as Element).localName, 'Signature')
  })

  it('leaves KeyInfo out when asked, and signs with RSA-SHA1 when asked', () => {
    const xml = signElement(unsignedResponse, '_a1', { keys, includeKeyInfo: false, algorithm: 'rsa-sha1' })
    assert.doesNotMatch(xml, /KeyInfo/)
    assert.match(xml, /xmldsig#rsa-sha1/)
    verifiedReferences(xml, keys.certificatePem)
  })

  it('places the Signature first when the element has no Issuer (an EntityDescriptor)', () => {
    const xml = signElement(
      '<EntityDescriptor ID="_m" entityID="x" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><IDPSSODescriptor/></EntityDescriptor>',
      '_m',
      { keys },
    )
    verifiedReferences(xml, keys.certificatePem)
    const root = parse(xml).documentElement
    assert.ok(root)
    assert.equal((root.firstChild as Element).localName, 'Signature')
  })

  it('refuses a missing ID, an ID two elements share, an ID that is not an NCName, and malformed XML', () => {
    assert.throws(() => signElement(unsignedResponse, '_nope', { keys }), isReason('element_not_found'))
    const twice = unsignedResponse.replace('ID="_r1"', 'ID="_a1"')
    assert.throws(() => signElement(twice, '_a1', { keys }), isReason('duplicate_element_id'))
    assert.throws(() => signElement(unsignedResponse, "_a1' or '1'='1", { keys }), isReason('invalid_option'))
    assert.throws(() => signElement('<a ID="_x">', '_x', { keys }), isReason('invalid_xml'))
  })
})
