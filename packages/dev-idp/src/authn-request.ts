import { inflateRawSync } from 'node:zlib'
import { DevIdpError } from './errors.ts'
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

export interface ParseAuthnRequestOptions {
  /**
   * 'redirect' (default): DEFLATE then base64, in the query (saml-bindings §3.4.4.1).
   * 'post': base64 of the XML itself, in a form field (saml-bindings §3.5.4).
   */
  binding?: 'redirect' | 'post'
}

/** Decodes an AuthnRequest sent with the HTTP-Redirect (default) or HTTP-POST binding. */
export function parseAuthnRequest(
  query: AuthnRequestQuery,
  options: ParseAuthnRequestOptions = {},
): ParsedAuthnRequest {
  const encoded = query?.SAMLRequest
  if (typeof encoded !== 'string' || encoded === '') fail('the SAMLRequest parameter is missing')
  if (encoded.length > maxEncodedLength) fail('the SAMLRequest parameter is too long')
  const relayState = query.RelayState
  if (relayState !== undefined && (typeof relayState !== 'string' || relayState.length > maxRelayStateLength)) {
    fail('the RelayState parameter is malformed or too long')
  }
  // A '+' turned into a space by a careless URL decoder is restored; anything else outside base64 is refused.
  const base64 = encoded.replace(/ /g, '+')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) fail('SAMLRequest is not base64')

  const decoded = Buffer.from(base64, 'base64')
  let xml: string
  if (options.binding === 'post') {
    xml = decoded.toString('utf8')
  } else {
    try {
      xml = inflateRawSync(decoded, { maxOutputLength: maxInflatedLength }).toString('utf8')
    } catch (error) {
      fail('SAMLRequest does not inflate (the HTTP-Redirect binding sends it DEFLATE-compressed)', error)
    }
  }

  const root = parseXml(xml, 'invalid_authn_request').documentElement
  if (root === null || root.localName !== 'AuthnRequest' || root.namespaceURI !== namespaces.protocol) {
    fail('SAMLRequest is not a samlp:AuthnRequest')
  }
  const id = root.getAttribute('ID')
  if (!id) fail('the AuthnRequest has no ID')
  const issuerElement = childElements(root).find(
    (child) => child.localName === 'Issuer' && child.namespaceURI === namespaces.assertion,
  )
  const issuer = issuerElement?.textContent?.trim()
  if (!issuer) fail('the AuthnRequest has no Issuer (the SP Entity ID)')
  const acsUrl = root.getAttribute('AssertionConsumerServiceURL') || undefined

  return {
    id,
    issuer,
    ...(acsUrl !== undefined ? { acsUrl } : {}),
    ...(relayState !== undefined ? { relayState } : {}),
  }
}

function fail(message: string, cause?: unknown): never {
  throw new DevIdpError('invalid_authn_request', message, cause === undefined ? undefined : { cause })
}
