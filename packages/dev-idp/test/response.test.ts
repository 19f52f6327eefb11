import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'
import type { Attr, Document, Element } from '@xmldom/xmldom'
import {
  createDevIdp,
  type DevIdp,
  DevIdpError,
  entraClaims,
  generateSigningKeys,
  type ResponseOptions,
  type SigningKeys,
} from '../src/index.ts'
import { parse, verifiedReferences } from './verify-with-xml-crypto.ts'

const fixtures = new URL('../../../test/fixtures/entra/', import.meta.url)
const assertionNs = 'urn:oasis:names:tc:SAML:2.0:assertion'
const sp = { entityId: 'https://app.example.test/saml/sp', acsUrl: 'https://app.example.test/sso/saml/c1/acs' }
const now = new Date('2025-06-01T12:00:00.000Z')

function first(root: Element | Document, localName: string): Element {
  const found = (root as Element).getElementsByTagNameNS('*', localName)[0]
  assert.ok(found, `no ${localName}`)
  return found as Element
}

function attributeValues(xml: string): Map<string, string[]> {
  const statement = first(parse(xml), 'AttributeStatement')
  const attributes = Array.from(statement.getElementsByTagNameNS(assertionNs, 'Attribute')) as Element[]
  return new Map(
    attributes.map((attribute) => [
      attribute.getAttribute('Name') ?? '',
      (Array.from(attribute.getElementsByTagNameNS(assertionNs, 'AttributeValue')) as Element[]).map(
        (value) => value.textContent ?? '',
      ),
    ]),
  )
}

// Element paths with their attribute names, leaving out what varies with the user's claims.
function shape(xml: string): string[] {
  const lines: string[] = []
  const walk = (element: Element, path: string) => {
    if (element.localName === 'AttributeValue' || element.localName === 'Attribute') return
    const here = `${path}/${element.namespaceURI}:${element.localName}`
    const names = (Array.from(element.attributes) as Attr[])
      .map((attribute) => attribute.name)
      .filter((name) => !name.startsWith('xmlns'))
    lines.push(`${here}[${names.join(',')}]`)
    for (let child = element.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === child.ELEMENT_NODE) walk(child as Element, here)
    }
  }
  const root = parse(xml).documentElement
  assert.ok(root)
  walk(root, '')
  return lines
}

describe('responseXml', () => {
  let keys: SigningKeys
  let idp: DevIdp
  const options = (extra: Partial<ResponseOptions> = {}): ResponseOptions => ({
    sp,
    user: { email: 'ada@example.test', firstName: 'Ada', lastName: 'Lovelace' },
    now,
    ...extra,
  })

  before(async () => {
    keys = await generateSigningKeys()
    idp = createDevIdp({ keys })
  })

  it('signs the assertion only, with RSA-SHA256 and exclusive c14n, and xml-crypto validates it with the certificate', () => {
    const xml = idp.responseXml(options({ inResponseTo: 'id-42' }))
    const [assertionReferences, ...others] = verifiedReferences(xml, idp.certificatePem)
    assert.equal(others.length, 0)
    assert.equal(assertionReferences?.length, 1)
    assert.match(assertionReferences?.[0] ?? '', /^<Assertion /)
    const signature = first(first(parse(xml), 'Assertion'), 'Signature')
    assert.equal(signature.previousSibling?.localName, 'Issuer', 'saml-core §5.4.2: the Signature follows the Issuer')
    assert.equal(
      first(signature, 'SignatureMethod').getAttribute('Algorithm'),
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    )
    assert.equal(first(signature, 'DigestMethod').getAttribute('Algorithm'), 'http://www.w3.org/2001/04/xmlenc#sha256')
    assert.equal(
      first(signature, 'CanonicalizationMethod').getAttribute('Algorithm'),
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    )
    assert.equal(first(signature, 'X509Certificate').textContent, idp.certificateBase64)
  })

  it('is laid out exactly like a real Entra IdP-initiated response', () => {
    const fixture = readFileSync(new URL('ssoready-2023-idp-initiated.response.xml', fixtures), 'utf8')
    const xml = idp.responseXml(options())
    assert.deepEqual(shape(xml), shape(fixture))
    const entraNames = [...attributeValues(fixture).keys()]
    assert.deepEqual([...attributeValues(xml).keys()], [...entraNames, 'firstName', 'lastname'])
  })

  it('is laid out exactly like a real Entra SP-initiated response', () => {
    const fixture = readFileSync(new URL('tercen-2022-sp-initiated.response.xml', fixtures), 'utf8')
    const xml = idp.responseXml(options({ inResponseTo: 'id6491e192', user: { email: 'test@example.test' } }))
    assert.deepEqual(shape(xml), shape(fixture))
  })

  it('carries the NameID, audience, recipient, destination, time window and Entra claims', () => {
    const xml = idp.responseXml(options({ inResponseTo: 'id-42' }))
    const document = parse(xml)
    const response = document.documentElement
    assert.ok(response)
    assert.equal(response.getAttribute('Destination'), sp.acsUrl)
    assert.equal(response.getAttribute('InResponseTo'), 'id-42')
    assert.equal(response.getAttribute('IssueInstant'), now.toISOString())
    assert.equal(first(document, 'Issuer').textContent, idp.entityId)
    assert.equal(first(document, 'StatusCode').getAttribute('Value'), 'urn:oasis:names:tc:SAML:2.0:status:Success')
    const nameId = first(document, 'NameID')
    assert.equal(nameId.textContent, 'ada@example.test')
    assert.equal(nameId.getAttribute('Format'), 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')
    const confirmation = first(document, 'SubjectConfirmationData')
    assert.equal(confirmation.getAttribute('Recipient'), sp.acsUrl)
    assert.equal(confirmation.getAttribute('InResponseTo'), 'id-42')
    assert.equal(confirmation.getAttribute('NotOnOrAfter'), '2025-06-01T12:05:00.000Z')
    const conditions = first(document, 'Conditions')
    assert.equal(conditions.getAttribute('NotBefore'), '2025-06-01T11:55:00.000Z')
    assert.equal(conditions.getAttribute('NotOnOrAfter'), '2025-06-01T13:00:00.000Z')
    assert.equal(first(document, 'Audience').textContent, sp.entityId)
    const assertion = first(document, 'Assertion')
    assert.equal(first(document, 'AuthnStatement').getAttribute('SessionIndex'), assertion.getAttribute('ID'))
    const claims = attributeValues(xml)
    assert.deepEqual(claims.get(entraClaims.tenantId), [idp.tenantId])
    assert.deepEqual(claims.get(entraClaims.emailAddress), ['ada@example.test'])
    assert.deepEqual(claims.get(entraClaims.name), ['ada@example.test'])
    assert.deepEqual(claims.get(entraClaims.givenName), ['Ada'])
    assert.deepEqual(claims.get(entraClaims.surname), ['Lovelace'])
    assert.deepEqual(claims.get(entraClaims.displayName), ['Ada Lovelace'])
    assert.deepEqual(claims.get('firstName'), ['Ada'])
    assert.deepEqual(claims.get('lastname'), ['Lovelace'])
    assert.match(
      claims.get(entraClaims.objectId)?.[0] ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
  })

  it('puts no InResponseTo anywhere when IdP-initiated', () => {
    const xml = idp.responseXml(options())
    assert.doesNotMatch(xml, /InResponseTo/)
    verifiedReferences(xml, idp.certificatePem)
  })

  it('uses the given NameID, format, object ID and extra attributes', () => {
    const xml = idp.responseXml(
      options({
        user: {
          email: 'ada@example.test',
          nameId: 'opaque-123',
          nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
          objectId: '11111111-2222-3333-4444-555555555555',
        },
        extraAttributes: { 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['g1', 'g2'] },
      }),
    )
    const nameId = first(parse(xml), 'NameID')
    assert.equal(nameId.textContent, 'opaque-123')
    assert.equal(nameId.getAttribute('Format'), 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent')
    const claims = attributeValues(xml)
    assert.deepEqual(claims.get(entraClaims.objectId), ['11111111-2222-3333-4444-555555555555'])
    assert.deepEqual(claims.get('http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'), ['g1', 'g2'])
    assert.equal(claims.has(entraClaims.givenName), false, 'Entra omits a claim with no value')
    assert.equal(claims.has('firstName'), false)
  })

  it('escapes every user value, so markup in a name stays text under the signature', () => {
    const hostile = `x"/><Attribute Name="evil"><AttributeValue>1</AttributeValue></Attribute><!--&'`
    const xml = idp.responseXml(
      options({ user: { email: 'ada@example.test', firstName: hostile, lastName: '<b>' }, inResponseTo: 'a"b' }),
    )
    verifiedReferences(xml, idp.certificatePem)
    const claims = attributeValues(xml)
    assert.deepEqual(claims.get('firstName'), [hostile])
    assert.deepEqual(claims.get('lastname'), ['<b>'])
    assert.equal(claims.has('evil'), false)
    assert.equal(parse(xml).documentElement?.getAttribute('InResponseTo'), 'a"b')
  })

  it('refuses a value holding a character XML cannot carry', () => {
    assert.throws(
      () => idp.responseXml(options({ user: { email: 'ada\u0000@example.test' } })),
      (error: unknown) => error instanceof DevIdpError && error.reason === 'invalid_xml_character',
    )
  })

  it('signs the Response too when asked, after the assertion, both valid', () => {
    const xml = idp.responseXml(options({ signResponse: true }))
    const references = verifiedReferences(xml, idp.certificatePem)
    assert.equal(references.length, 2)
    assert.match(references[0]?.[0] ?? '', /^<samlp:Response /)
    assert.match(references[0]?.[0] ?? '', /<Assertion [^>]*>.*<Signature /, 'the assertion was signed first')
    assert.match(references[1]?.[0] ?? '', /^<Assertion /)
    const responseSignature = parse(xml).documentElement?.childNodes[1] as Element
    assert.equal(responseSignature.localName, 'Signature')
  })

  it('leaves the assertion unsigned when asked', () => {
    const xml = idp.responseXml(options({ signAssertion: false }))
    assert.doesNotMatch(xml, /Signature/)
    assert.ok(first(parse(xml), 'Assertion'))
  })

  it('signs with RSA-SHA1 and a SHA-1 digest when asked', () => {
    const xml = idp.responseXml(options({ signatureAlgorithm: 'rsa-sha1' }))
    verifiedReferences(xml, idp.certificatePem)
    assert.match(xml, /SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#rsa-sha1"/)
    assert.match(xml, /DigestMethod Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#sha1"/)
  })

  it('signs with other keys when given, which the IdP certificate then does not validate', async () => {
    const attacker = await generateSigningKeys()
    const xml = idp.responseXml(options({ keys: attacker }))
    verifiedReferences(xml, attacker.certificatePem)
    assert.throws(() => verifiedReferences(xml, idp.certificatePem))
  })

  it('sends an error status without an assertion, like Entra, unless told to include one', () => {
    const requester = 'urn:oasis:names:tc:SAML:2.0:status:Requester'
    const refused = idp.responseXml(options({ statusCode: requester, statusMessage: 'AADSTS50105' }))
    assert.equal(first(parse(refused), 'StatusCode').getAttribute('Value'), requester)
    assert.equal(first(parse(refused), 'StatusMessage').textContent, 'AADSTS50105')
    assert.doesNotMatch(refused, /Assertion/)
    const withAssertion = idp.responseXml(options({ statusCode: requester, includeAssertion: true }))
    assert.equal(verifiedReferences(withAssertion, idp.certificatePem).length, 1)
  })

  it('gives base64 of the same XML for the SAMLResponse form field', () => {
    const decoded = Buffer.from(idp.responseBase64(options()), 'base64').toString('utf8')
    assert.match(decoded, /^<samlp:Response /)
    verifiedReferences(decoded, idp.certificatePem)
  })

  it('signs with an EC P-256 key as ECDSA-SHA256, which xml-crypto validates with the certificate', async () => {
    const ecKeys = await generateSigningKeys({ keyType: 'ec' })
    const ecIdp = createDevIdp({ keys: ecKeys })
    const xml = ecIdp.responseXml(options({ signResponse: true }))
    assert.equal(verifiedReferences(xml, ecIdp.certificatePem).length, 2)
    assert.match(xml, /SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#ecdsa-sha256"/)
    assert.throws(
      () => ecIdp.responseXml(options({ signatureAlgorithm: 'rsa-sha256' })),
      (error: unknown) => error instanceof DevIdpError && error.reason === 'algorithm_key_mismatch',
    )
  })
})
