// Gatehouse's AuthnRequest, written out element by element so that every attribute carries a real
// value: a template with placeholders left in (`ForceAuthn="{ForceAuthn}"`) is refused by every
// IdP that types its attributes as saml-core §3.4.1 does (xs:boolean, xs:unsignedShort).
import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { isEmailAddress } from '@gatehouse/server/email'
import { escapeXml } from '@gatehouse/server/xml-text'
import { EMAIL_ADDRESS_FORMAT, HTTP_POST } from './service-provider.ts'

const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol'
const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion'

export interface AuthnRequestFields {
  id: string
  issueInstant: Date
  /** The IdP's SSO URL; saml-bindings 3.4.5.2 makes Destination mandatory once the request is signed. */
  destination: string
  /** The SP Entity ID. */
  issuer: string
  acsUrl: string
}

/** saml-core 1.3.4: an ID with 160 bits of randomness, starting with a letter (xs:ID). */
export function newRequestId(): string {
  return `id${randomBytes(20).toString('hex')}`
}

/**
 * saml-core §3.4.1. The response is asked for at the ACS URL with HTTP-POST, so
 * AssertionConsumerServiceIndex is absent (the two are mutually exclusive); ForceAuthn and IsPassive
 * are absent, which means false. NameIDPolicy asks for the email address the product matches on,
 * without letting the IdP create an identifier it would not otherwise issue.
 */
export function authnRequestXml(fields: AuthnRequestFields): string {
  return (
    `<samlp:AuthnRequest xmlns:samlp="${PROTOCOL_NS}" xmlns:saml="${ASSERTION_NS}"` +
    ` ID="${escapeXml(fields.id)}" Version="2.0" IssueInstant="${fields.issueInstant.toISOString()}"` +
    ` Destination="${escapeXml(fields.destination)}"` +
    ` AssertionConsumerServiceURL="${escapeXml(fields.acsUrl)}" ProtocolBinding="${HTTP_POST}">` +
    `<saml:Issuer>${escapeXml(fields.issuer)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="${EMAIL_ADDRESS_FORMAT}" AllowCreate="false"/>` +
    `</samlp:AuthnRequest>`
  )
}

/** The parameters of one HTTP-Redirect message, in the order saml-bindings §3.4.4.1 signs them. */
export interface RedirectMessage {
  SAMLRequest: string
  RelayState?: string
}

/**
 * saml-bindings §3.4.4.1: the XML is DEFLATE-compressed (raw, RFC 1951), base64-encoded and
 * URL-encoded. A detached signature covers exactly `SAMLRequest=…[&RelayState=…]&SigAlg=…` as it
 * appears in the URL, so this string is what a signer appends `SigAlg` to and signs.
 */
export function redirectQuery(message: RedirectMessage): string {
  const encoded = deflateRawSync(Buffer.from(message.SAMLRequest, 'utf8')).toString('base64')
  const parameters: [string, string][] = [['SAMLRequest', encoded]]
  if (message.RelayState !== undefined) parameters.push(['RelayState', message.RelayState])
  return parameters.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')
}

/**
 * The IdP's SSO URL with the SAML query appended (it may already carry a query of its own, as
 * Google Workspace's `…/idp?idpid=…` does). `login_hint` is outside the SAML message and any
 * signature: Entra pre-fills its sign-in page with it, other IdPs ignore it.
 */
export function redirectUrl(ssoUrl: string, samlQuery: string, loginHint?: string): string {
  if (loginHint !== undefined && !isEmailAddress(loginHint)) {
    throw new RangeError('login_hint must be an email address')
  }
  const url = new URL(ssoUrl)
  url.hash = ''
  const query = loginHint === undefined ? samlQuery : `${samlQuery}&login_hint=${encodeURIComponent(loginHint)}`
  url.search = url.search === '' ? query : `${url.search.slice(1)}&${query}`
  return url.href
}
