import { inflateRawSync } from 'node:zlib'
import type { Element } from '@xmldom/xmldom'
import { DevIdpError } from './errors.ts'
import { samlSchemaToolMissing, validateAgainstSamlSchema } from './saml-schema.ts'
import { childElements, namespaces, parseXml } from './xml-dom.ts'

export interface AuthnRequestQuery {
  SAMLRequest: string
  RelayState?: string
}

export interface ParsedAuthnRequest {
  id: string
  issuer: string
  acsUrl?: string
  relayState?: string
}

// Generous for any real AuthnRequest (a few hundred bytes), small enough that a hostile query
// cannot make the IdP inflate a "zip bomb" into memory.
const maxEncodedLength = 16 * 1024
const maxInflatedLength = 64 * 1024
// saml-bindings §3.4.3 caps RelayState at 80 bytes; SPs routinely exceed it, so only absurd sizes are refused.
const maxRelayStateLength = 4 * 1024
// The request is read again when the person submits the sign-in page, so it may be a few minutes old.
const maxRequestAgeMs = 10 * 60 * 1000
const maxClockSkewMs = 5 * 60 * 1000
const httpPost = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'
// xs:dateTime in UTC, the only form saml-core §1.3.3 allows in SAML time values.
const utcDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/
const xsBoolean = /^(true|false|1|0)$/

export interface ParseAuthnRequestOptions {
  /**
   * 'redirect' (default): DEFLATE then base64, in the query (saml-bindings §3.4.4.1).
   * 'post': base64 of the XML itself, in a form field (saml-bindings §3.5.4).
   */
  binding?: 'redirect' | 'post'
  /** The Login URL the request must name as its Destination. */
  loginUrl?: string
  /** When given, IssueInstant must be at most 10 minutes before it and 5 minutes after it. */
  now?: Date
}

/**
 * Decodes an AuthnRequest sent with the HTTP-Redirect (default) or HTTP-POST binding and holds it to
 * the OASIS schema (xmllint, when installed) and saml-core §3.4.1, refusing what Entra or a strict
 * IdP refuses with the AADSTS code Entra uses (`DevIdpError.entraCode`).
 */
export function parseAuthnRequest(
  query: AuthnRequestQuery,
  options: ParseAuthnRequestOptions = {},
): ParsedAuthnRequest {
  const encoded = query?.SAMLRequest
  if (typeof encoded !== 'string' || encoded === '') {
    fail(
      'AADSTS750054',
      'SAMLRequest or SAMLResponse must be present as query string parameters in HTTP request for SAML Redirect binding.',
    )
  }
  if (encoded.length > maxEncodedLength) fail('AADSTS75001', 'the SAMLRequest parameter is too long')
  const relayState = query.RelayState
  if (relayState !== undefined && (typeof relayState !== 'string' || relayState.length > maxRelayStateLength)) {
    fail('AADSTS75001', 'the RelayState parameter is malformed or too long')
  }
  // A '+' turned into a space by a careless URL decoder is restored; anything else outside base64 is refused.
  const base64 = encoded.replace(/ /g, '+')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) fail('AADSTS75001', 'SAMLRequest is not base64')

  const decoded = Buffer.from(base64, 'base64')
  let xml: string
  if (options.binding === 'post') {
    xml = decoded.toString('utf8')
  } else {
    try {
      xml = inflateRawSync(decoded, { maxOutputLength: maxInflatedLength }).toString('utf8')
    } catch (error) {
      fail('AADSTS75001', 'SAMLRequest does not inflate (the HTTP-Redirect binding sends it DEFLATE-compressed)', error)
    }
  }

  // Parsed first: a DOCTYPE (XXE, entity expansion) is refused before any other tool reads the XML.
  let root: Element | null
  try {
    root = parseXml(xml, 'invalid_authn_request').documentElement
  } catch (error) {
    fail('AADSTS75005', `SAMLRequest is not well-formed XML: ${(error as Error).message}`, error)
  }
  if (root === null || root.localName !== 'AuthnRequest' || root.namespaceURI !== namespaces.protocol) {
    fail('AADSTS75005', 'SAMLRequest is not a samlp:AuthnRequest')
  }
  // Without xmllint (a developer machine without the package) the checks below still hold the
  // attributes Gatehouse once got wrong; the tests run the schema in CI.
  if (samlSchemaToolMissing() === null) {
    const verdict = validateAgainstSamlSchema(xml, 'protocol')
    if (!verdict.valid) {
      fail('AADSTS75005', `The request is not a valid SAML 2.0 AuthnRequest: ${verdict.errors.join(' ')}`)
    }
  }

  const id = root.getAttribute('ID')
  if (!id) fail('AADSTS75005', 'the AuthnRequest has no ID')
  if (root.getAttribute('Version') !== '2.0') fail('AADSTS75005', 'the AuthnRequest Version must be 2.0')
  for (const name of ['ForceAuthn', 'IsPassive']) {
    const value = root.getAttribute(name)
    if (root.hasAttribute(name) && !xsBoolean.test(value ?? '')) {
      fail('AADSTS75005', `${name} '${value}' is not a boolean (saml-core §3.4.1 types it xs:boolean)`)
    }
  }
  // saml-core §3.4.1: the index and the URL + ProtocolBinding are mutually exclusive; an IdP that
  // knows its SP by Reply URL has nothing to look an index up in.
  if (root.hasAttribute('AssertionConsumerServiceIndex')) {
    fail(
      'AADSTS900236',
      "The SAML authentication request property 'AssertionConsumerServiceIndex' is not supported and must not be set.",
    )
  }
  const protocolBinding = root.getAttribute('ProtocolBinding')
  if (root.hasAttribute('ProtocolBinding') && protocolBinding !== httpPost) {
    fail(
      'AADSTS75003',
      `The response can only be sent with the HTTP-POST binding, not '${protocolBinding}' (UnsupportedBindingError).`,
    )
  }
  const issuerElement = childElements(root).find(
    (child) => child.localName === 'Issuer' && child.namespaceURI === namespaces.assertion,
  )
  const issuer = issuerElement?.textContent?.trim()
  if (!issuer) fail('AADSTS75005', 'the AuthnRequest has no Issuer (the SP Entity ID)')
  const acsUrl = root.getAttribute('AssertionConsumerServiceURL') || undefined

  if (options.loginUrl !== undefined && root.getAttribute('Destination') !== options.loginUrl) {
    fail(
      'AADSTS75008',
      `The request from the app was denied since the SAML request had an unexpected destination: '${root.getAttribute('Destination') ?? ''}' instead of this Login URL, '${options.loginUrl}'.`,
    )
  }
  checkIssueInstant(root.getAttribute('IssueInstant') ?? '', options.now)

  return {
    id,
    issuer,
    ...(acsUrl !== undefined ? { acsUrl } : {}),
    ...(relayState !== undefined ? { relayState } : {}),
  }
}

function checkIssueInstant(value: string, now: Date | undefined) {
  if (!utcDateTime.test(value) || Number.isNaN(Date.parse(value))) {
    fail('AADSTS75005', `IssueInstant '${value}' is not a UTC xs:dateTime`)
  }
  if (now === undefined) return
  const ageMs = now.getTime() - Date.parse(value)
  if (ageMs > maxRequestAgeMs) {
    fail(
      'AADSTS76026',
      `IssueTime in an SAML2 Authentication Request is expired: ${value} is ${Math.round(ageMs / 60_000)} minutes old.`,
    )
  }
  if (ageMs < -maxClockSkewMs) {
    fail('AADSTS75005', `IssueInstant ${value} is in the future: check the clock of the application's server.`)
  }
}

function fail(entraCode: string, message: string, cause?: unknown): never {
  throw new DevIdpError('invalid_authn_request', message, { cause, entraCode })
}
