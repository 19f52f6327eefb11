// The hostile corpus: every way a posted SAMLResponse must be refused, each with the reason it must
// be refused for. Exported (package export "./test-corpus") so the auth service can post every
// variant to its real ACS route. It assumes a connection with allowIdpInitiated=false and
// allowSha1=false, configured with `idp`'s certificate, the SP URLs `sp`, and a fresh replay store.
// Replay is not here: it needs state, and is tested beside the store.
import { createDevIdp, type DevIdp, type SamlUser, type SigningKeys, signElement } from '@gatehouse/dev-idp'
import { DOMParser, type Document, type Element, XMLSerializer } from '@xmldom/xmldom'
import type { SamlErrorReason } from '../src/errors.ts'
import type { ServiceProviderUrls } from '../src/service-provider.ts'

export interface HostileCorpusContext {
  idp: DevIdp
  attackerKeys: SigningKeys
  sp: ServiceProviderUrls
  requestId: string
  now: Date
  user: SamlUser
}

export interface HostileVariant {
  name: string
  samlResponse: string
  expectedReason: SamlErrorReason
  expectedRequestId: string | null
}

/** A variant whose response is signed only when asked for: a caller posting one variant signs only that one. */
export type UnbuiltHostileVariant = Omit<HostileVariant, 'samlResponse'> & { samlResponse: () => string }

const DSIG = 'http://www.w3.org/2000/09/xmldsig#'
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
const MINUTE_MS = 60_000

const base64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64')
const parse = (xml: string): Document => new DOMParser().parseFromString(xml, 'text/xml')
const serialize = (document: Document): string => new XMLSerializer().serializeToString(document)

function root(document: Document): Element {
  if (document.documentElement === null) throw new Error('no root element')
  return document.documentElement
}

function child(parent: Element, namespace: string, localName: string): Element {
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    const element = node as Element
    if (node.nodeType === 1 && element.localName === localName && element.namespaceURI === namespace) return element
  }
  throw new Error(`no ${localName} in ${parent.localName}`)
}

function nameIdOf(assertion: Element): Element {
  return child(child(assertion, ASSERTION, 'Subject'), ASSERTION, 'NameID')
}

function setText(element: Element, text: string): void {
  while (element.firstChild !== null) element.removeChild(element.firstChild)
  element.appendChild((element.ownerDocument as Document).createTextNode(text))
}

function assertionIdIn(xml: string): string {
  const match = /<Assertion ID="([^"]+)"/.exec(xml)
  if (match?.[1] === undefined) throw new Error('no assertion')
  return match[1]
}

function responseIdIn(xml: string): string {
  const match = /<samlp:Response ID="([^"]+)"/.exec(xml)
  if (match?.[1] === undefined) throw new Error('no response')
  return match[1]
}

/** XSW payloads move or copy signed elements; the evil copy names the attacker's chosen victim. */
/** A copy of `element` without its own ds:Signature. */
function unsignedCopy(element: Element): Element {
  const copy = element.cloneNode(true) as Element
  copy.removeChild(child(copy, DSIG, 'Signature'))
  return copy
}

function wrap(signedXml: string, attack: (document: Document, response: Element, assertion: Element) => void): string {
  const document = parse(signedXml)
  const response = root(document)
  attack(document, response, child(response, ASSERTION, 'Assertion'))
  return serialize(document)
}

/** Made on first use, then kept. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined
  return () => {
    made ??= { value: make() }
    return made.value
  }
}

export function buildHostileCorpus(ctx: HostileCorpusContext): HostileVariant[] {
  return hostileVariants(ctx).map((variant) => ({ ...variant, samlResponse: variant.samlResponse() }))
}

/** The corpus with each response made (and signed) only when its `samlResponse()` is called. */
export function hostileVariants(ctx: HostileCorpusContext): UnbuiltHostileVariant[] {
  const { idp, attackerKeys, sp, requestId, now, user } = ctx
  const victim = 'ceo@victim.example'
  const base = { sp, user, inResponseTo: requestId, now }
  const valid = once(() => idp.responseXml(base))
  const unsigned = once(() => idp.responseXml({ ...base, signAssertion: false }))
  const signAssertion = (xml: string, keys = idp.keys, options: { includeKeyInfo?: boolean } = {}) =>
    signElement(xml, assertionIdIn(xml), { keys, ...options })
  const responseOnlySigned = once(() => idp.responseXml({ ...base, signAssertion: false, signResponse: true }))
  const otherApp = { entityId: 'https://other-app.example/saml', acsUrl: 'https://other-app.example/saml/acs' }

  const variants: Array<
    Omit<HostileVariant, 'samlResponse' | 'expectedRequestId'> & {
      xml?: () => string
      raw?: string
      expectedRequestId?: string | null
    }
  > = [
    // The classic signature-wrapping set (Somorovsky et al., "On Breaking SAML", 2012; SAML Raider's XSW1-8).
    {
      name: 'XSW1: evil Response, original signed Response copied into its Signature',
      expectedReason: 'schema_invalid',
      xml: () =>
        wrap(responseOnlySigned(), (document, response) => {
          const signature = child(response, DSIG, 'Signature')
          const original = unsignedCopy(response)
          response.setAttribute('ID', '_evil_response')
          setText(nameIdOf(child(response, ASSERTION, 'Assertion')), victim)
          const object = document.createElementNS(DSIG, 'Object')
          object.appendChild(original)
          signature.appendChild(object)
        }),
    },
    {
      name: 'XSW2: evil Response, original signed Response placed before the detached Signature',
      expectedReason: 'schema_invalid',
      xml: () =>
        wrap(responseOnlySigned(), (_document, response) => {
          const signature = child(response, DSIG, 'Signature')
          const original = unsignedCopy(response)
          response.setAttribute('ID', '_evil_response')
          setText(nameIdOf(child(response, ASSERTION, 'Assertion')), victim)
          response.insertBefore(original, signature)
        }),
    },
    {
      name: 'XSW3: unsigned evil Assertion inserted before the signed one',
      expectedReason: 'multiple_assertions',
      xml: () =>
        wrap(valid(), (_document, response, assertion) => {
          const evil = assertion.cloneNode(true) as Element
          evil.setAttribute('ID', '_evil_assertion')
          evil.removeChild(child(evil, DSIG, 'Signature'))
          setText(nameIdOf(evil), victim)
          response.insertBefore(evil, assertion)
        }),
    },
    {
      name: 'XSW4: evil Assertion wrapping the signed one',
      expectedReason: 'schema_invalid',
      xml: () =>
        wrap(valid(), (_document, response, assertion) => {
          const evil = assertion.cloneNode(true) as Element
          evil.setAttribute('ID', '_evil_assertion')
          evil.removeChild(child(evil, DSIG, 'Signature'))
          setText(nameIdOf(evil), victim)
          response.replaceChild(evil, assertion)
          evil.appendChild(assertion)
        }),
    },
    {
      name: 'XSW5: evil Assertion keeps the Signature and ID, unsigned original appended to the Response',
      expectedReason: 'structure_invalid',
      xml: () =>
        wrap(valid(), (_document, response, assertion) => {
          const original = unsignedCopy(assertion)
          setText(nameIdOf(assertion), victim)
          response.appendChild(original)
        }),
    },
    {
      name: 'XSW6: evil Assertion keeps the Signature, original Assertion inside that Signature',
      expectedReason: 'schema_invalid',
      xml: () =>
        wrap(valid(), (document, _response, assertion) => {
          const signature = child(assertion, DSIG, 'Signature')
          const original = unsignedCopy(assertion)
          setText(nameIdOf(assertion), victim)
          const object = document.createElementNS(DSIG, 'Object')
          object.appendChild(original)
          signature.appendChild(object)
        }),
    },
    {
      name: 'XSW7: signed Assertion hidden in Extensions, unsigned evil Assertion in its place',
      expectedReason: 'schema_invalid',
      xml: () =>
        wrap(valid(), (document, response, assertion) => {
          const evil = unsignedCopy(assertion)
          evil.setAttribute('ID', '_evil_assertion')
          setText(nameIdOf(evil), victim)
          const extensions = document.createElementNS(PROTOCOL, 'samlp:Extensions')
          response.insertBefore(extensions, child(response, PROTOCOL, 'Status'))
          response.replaceChild(evil, assertion)
          extensions.appendChild(assertion)
        }),
    },
    {
      name: 'XSW8: evil Assertion keeps the Signature, unsigned original in a ds:Object of it',
      expectedReason: 'schema_invalid',
      xml: () =>
        wrap(valid(), (document, _response, assertion) => {
          const signature = child(assertion, DSIG, 'Signature')
          const original = unsignedCopy(assertion)
          setText(nameIdOf(assertion), victim)
          const object = document.createElementNS(DSIG, 'Object')
          signature.appendChild(object)
          object.appendChild(original)
        }),
    },
    {
      name: 'signature moved onto an evil Assertion: its Reference points at another element',
      expectedReason: 'structure_invalid',
      xml: () =>
        wrap(valid(), (_document, _response, assertion) => {
          assertion.setAttribute('ID', '_evil_assertion')
          setText(nameIdOf(assertion), victim)
        }),
    },
    {
      name: 'signature Reference with an empty URI (the whole document)',
      expectedReason: 'structure_invalid',
      xml: () => valid().replace(/<Reference URI="#[^"]+">/, '<Reference URI="">'),
    },
    {
      name: 'NameID changed after signing (digest mismatch)',
      expectedReason: 'signature_invalid',
      xml: () => wrap(valid(), (_document, _response, assertion) => setText(nameIdOf(assertion), victim)),
    },
    {
      name: 'comment injected inside NameID (CVE-2017-11428)',
      expectedReason: 'nameid_invalid',
      xml: () =>
        signAssertion(
          idp
            .responseXml({ ...base, user: { ...user, email: `${victim}.attacker.example` }, signAssertion: false })
            .replace(`>${victim}.attacker.example</NameID>`, `>${victim}<!---->.attacker.example</NameID>`),
        ),
    },
    {
      name: 'comment injected inside NameID after signing (c14n ignores comments, the digest still matches)',
      expectedReason: 'nameid_invalid',
      xml: () =>
        idp
          .responseXml({ ...base, user: { ...user, email: `${victim}.attacker.example` } })
          .replace(`>${victim}.attacker.example</NameID>`, `>${victim}<!---->.attacker.example</NameID>`),
    },
    {
      name: 'CDATA section inside NameID',
      expectedReason: 'nameid_invalid',
      xml: () => valid().replace(/(<NameID[^>]*>)([^<]+)(<\/NameID>)/, '$1<![CDATA[$2]]>$3'),
    },
    {
      name: "attacker's own certificate in KeyInfo",
      expectedReason: 'signature_invalid',
      xml: () => idp.responseXml({ ...base, keys: attackerKeys }),
    },
    {
      name: 'signed by another key, no KeyInfo',
      expectedReason: 'signature_invalid',
      xml: () => signAssertion(unsigned(), attackerKeys, { includeKeyInfo: false }),
    },
    {
      name: "IdP's certificate in KeyInfo, but signed by another key",
      expectedReason: 'signature_invalid',
      xml: () =>
        signAssertion(unsigned(), attackerKeys).replace(
          /<X509Certificate>[^<]+<\/X509Certificate>/,
          `<X509Certificate>${idp.certificateBase64}</X509Certificate>`,
        ),
    },
    {
      name: 'valid assertion signature, Response signed by another key',
      expectedReason: 'signature_invalid',
      xml: () => signElement(valid(), responseIdIn(valid()), { keys: attackerKeys }),
    },
    { name: 'signature removed (never signed)', expectedReason: 'signature_missing', xml: unsigned },
    {
      name: 'signature element stripped from a signed response',
      expectedReason: 'signature_missing',
      xml: () => valid().replace(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">.*<\/Signature>/, ''),
    },
    {
      name: 'signed with RSA-SHA1 without the opt-in',
      expectedReason: 'weak_algorithm',
      xml: () => idp.responseXml({ ...base, signatureAlgorithm: 'rsa-sha1' }),
    },
    {
      name: 'expired (issued 10 minutes ago: bearer window of 5 minutes + 3 minutes skew)',
      expectedReason: 'expired',
      xml: () => idp.responseXml({ ...base, now: new Date(now.getTime() - 10 * MINUTE_MS) }),
    },
    {
      name: 'not yet valid (issued 10 minutes in the future)',
      expectedReason: 'not_yet_valid',
      xml: () => idp.responseXml({ ...base, now: new Date(now.getTime() + 10 * MINUTE_MS) }),
    },
    {
      name: 'Audience of another application of the same tenant',
      expectedReason: 'audience_mismatch',
      xml: () => idp.responseXml({ ...base, sp: { entityId: otherApp.entityId, acsUrl: sp.acsUrl } }),
    },
    {
      name: 'Recipient of another application (Destination right)',
      expectedReason: 'recipient_mismatch',
      xml: () =>
        signAssertion(
          idp
            .responseXml({ ...base, sp: { entityId: sp.entityId, acsUrl: otherApp.acsUrl }, signAssertion: false })
            .replace(`Destination="${otherApp.acsUrl}"`, `Destination="${sp.acsUrl}"`),
        ),
    },
    {
      name: 'Destination of another application',
      expectedReason: 'destination_mismatch',
      xml: () => signAssertion(unsigned().replace(`Destination="${sp.acsUrl}"`, `Destination="${otherApp.acsUrl}"`)),
    },
    {
      name: 'Issuer of another tenant signing with the same key',
      expectedReason: 'issuer_mismatch',
      xml: () => createDevIdp({ keys: idp.keys, tenantId: '00000000-0000-4000-8000-000000000bad' }).responseXml(base),
    },
    {
      name: 'InResponseTo of another request',
      expectedReason: 'in_response_to_mismatch',
      xml: () => idp.responseXml({ ...base, inResponseTo: 'id-some-other-request' }),
    },
    {
      name: 'InResponseTo present while no request is pending',
      expectedReason: 'in_response_to_mismatch',
      xml: () => valid(),
      expectedRequestId: null,
    },
    {
      name: 'unsolicited (IdP-initiated) on a connection that does not allow it',
      expectedReason: 'unsolicited',
      xml: () => idp.responseXml({ sp, user, now }),
    },
    {
      name: "Entra portal's test button InResponseTo on a connection that does not allow IdP-initiated",
      expectedReason: 'unsolicited',
      xml: () => idp.responseXml({ ...base, inResponseTo: 'F84D888AA3B44C1B844375A4E8210D9E' }),
    },
    {
      name: 'two signed assertions: ours and one the tenant issued to another application',
      expectedReason: 'multiple_assertions',
      xml: () =>
        wrap(valid(), (_document, response) => {
          const foreign = parse(idp.responseXml({ ...base, sp: otherApp }))
          response.appendChild(child(root(foreign), ASSERTION, 'Assertion'))
        }),
    },
    {
      name: 'encrypted assertion',
      expectedReason: 'encrypted_assertion_unsupported',
      xml: () =>
        valid().replace(
          /<Assertion .*<\/Assertion>/,
          `<EncryptedAssertion xmlns="${ASSERTION}"><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></EncryptedAssertion>`,
        ),
    },
    {
      name: 'Responder status (the IdP refused the sign-in)',
      expectedReason: 'status_not_success',
      xml: () =>
        idp.responseXml({
          ...base,
          statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
          statusMessage: 'AADSTS50105: The signed in user is not assigned to a role for the application.',
        }),
    },
    {
      name: 'Success status without an assertion',
      expectedReason: 'no_assertion',
      xml: () => idp.responseXml({ ...base, includeAssertion: false }),
    },
    {
      name: 'persistent NameID',
      expectedReason: 'nameid_not_email',
      xml: () =>
        idp.responseXml({
          ...base,
          user: {
            ...user,
            nameId: 'Dh7tdLu2gHm-Vi4emADxWxfoPB2XZvADD',
            nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
          },
        }),
    },
    {
      name: 'NameID that is not an email address',
      expectedReason: 'nameid_not_email',
      xml: () => idp.responseXml({ ...base, user: { ...user, nameId: 'not an email' } }),
    },
    {
      name: 'no NameID',
      expectedReason: 'nameid_missing',
      xml: () => signAssertion(unsigned().replace(/<NameID[^>]*>[^<]*<\/NameID>/, '')),
    },
    {
      name: 'DOCTYPE',
      expectedReason: 'dtd_forbidden',
      xml: () => `<?xml version="1.0"?><!DOCTYPE samlp:Response>${valid()}`,
    },
    {
      name: 'external entity (XXE)',
      expectedReason: 'dtd_forbidden',
      xml: () =>
        `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${valid().replace(/(<NameID[^>]*>)[^<]*/, '$1&xxe;')}`,
    },
    {
      name: 'entity expansion (billion laughs)',
      expectedReason: 'dtd_forbidden',
      xml: () =>
        `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${valid().replace(/(<NameID[^>]*>)[^<]*/, '$1&c;')}`,
    },
    {
      name: 'oversized (over 256 KiB decoded)',
      expectedReason: 'too_large',
      xml: () => valid().replace('</samlp:Response>', `${' '.repeat(257 * 1024)}</samlp:Response>`),
    },
    {
      name: 'thousands of nested elements each declaring a namespace (parser cost, under 256 KiB)',
      expectedReason: 'too_large',
      xml: () =>
        valid().replace(
          '</samlp:Response>',
          `${'<x:e xmlns:x="urn:x">'.repeat(8_000)}${'</x:e>'.repeat(8_000)}</samlp:Response>`,
        ),
    },
    { name: 'invalid base64', expectedReason: 'invalid_base64', raw: 'PHNhbWxwOlJlc3BvbnNl!!not*base64' },
    { name: 'empty SAMLResponse', expectedReason: 'invalid_base64', raw: '' },
    { name: 'not XML', expectedReason: 'malformed_xml', xml: () => 'this is not XML, it is a login form value' },
    {
      name: 'truncated XML',
      expectedReason: 'malformed_xml',
      xml: () => valid().slice(0, Math.floor(valid().length / 2)),
    },
    {
      name: 'XML that is not a SAML Response (a LogoutRequest)',
      expectedReason: 'schema_invalid',
      xml: () =>
        `<samlp:LogoutRequest xmlns:samlp="${PROTOCOL}" ID="_x" Version="2.0" IssueInstant="${now.toISOString()}"/>`,
    },
    {
      name: 'response and assertion answering different requests',
      expectedReason: 'in_response_to_mismatch',
      xml: () => valid().replace(/(<samlp:Response [^>]*InResponseTo=")[^"]+"/, '$1id-other"'),
    },
  ]
  return variants.map(({ name, expectedReason, xml, raw, expectedRequestId }) => ({
    name,
    expectedReason,
    samlResponse: () => raw ?? base64(xml?.() ?? ''),
    expectedRequestId: expectedRequestId === undefined ? requestId : expectedRequestId,
  }))
}
