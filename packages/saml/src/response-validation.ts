// Web Browser SSO response processing (saml-profiles 4.1.4.3) as one pure function of its inputs:
// connection + posted response + clock + replay store -> identity, or a SamlError with a stable
// reason. The document is parsed once; every later check reads that DOM, and every value returned
// comes from the one Assertion that a verified signature covers.

import { isEmailAddress } from '@gatehouse/server/email'
import type { Document, Element } from '@xmldom/xmldom'
import type { VerificationKey } from './certificates.ts'
import { SamlError } from './errors.ts'
import type { ReplayStore } from './replay-store.ts'
import { validateResponseSchema } from './response-schema.ts'
import type { ServiceProviderUrls } from './service-provider.ts'
import { verifyEnvelopedSignature } from './signature.ts'
import {
  attributeOrNull,
  childrenNamed,
  ELEMENT_NODE,
  firstChildNamed,
  NS,
  parseBoundedXml,
  RESPONSE_XML_LIMITS,
  soleText,
} from './xml-document.ts'

export interface SamlIdentity {
  /**
   * What accounts are looked up by, lower-cased: the NameID, or with `emailFromAttribute` the
   * email attribute.
   */
  email: string
  nameId: string
  nameIdFormat: string | null
  firstName?: string
  lastName?: string
  /** Every attribute of the assertion, by its Name as sent. */
  attributes: Record<string, string[]>
  assertionId: string
  issuer: string
  sessionIndex?: string
  /** The bearer confirmation's NotOnOrAfter: after it the assertion may not be used. */
  notOnOrAfter: Date
  inResponseTo: string | null
  /**
   * SHA-256 fingerprint of the configured certificate that verified the signature (the
   * assertion's when it is signed, else the response's): shows which one signs during a rollover.
   */
  signedBy: string
}

export interface ResponseValidationSettings {
  sp: ServiceProviderUrls
  idpEntityId: string
  keys: readonly VerificationKey[]
  allowIdpInitiated: boolean
  allowSha1: boolean
  /** Take the email from an attribute, for IdPs whose NameID is persistent or transient (Okta, ADFS). */
  emailFromAttribute: boolean
  clockSkewMs: number
}

export interface ResponseValidationInput {
  samlResponse: string
  expectedRequestId: string | null
  now?: Date
  replayStore: ReplayStore
}

export const MAX_DECODED_RESPONSE_BYTES = RESPONSE_XML_LIMITS.bytes
// Base64 grows 4/3; allow generous line breaks before refusing without decoding.
const MAX_ENCODED_RESPONSE_CHARS = Math.ceil((MAX_DECODED_RESPONSE_BYTES * 4) / 3) * 2

/** The request ID Entra's "Test single sign-on" button sends, which no SP ever issued. */
export const ENTRA_PORTAL_TEST_REQUEST_ID = 'F84D888AA3B44C1B844375A4E8210D9E'

const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success'
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'
const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity'
const EMAIL_FORMATS = new Set([
  'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
])
// Each claim by the Names IdPs send it under: Entra's claim URIs, the X.500/LDAP attribute profile
// (saml-profiles 8.2, NameFormat uri; SAML2int's choice, pysaml2's default), the older MACE-Dir
// names (eduPerson, Shibboleth and SimpleSAMLphp's "basic" setting) and the short names admins type
// into Okta or Google Workspace; or by FriendlyName alone. Compared case-insensitively, in this order.
interface ClaimNames {
  names: readonly string[]
  friendlyNames: readonly string[]
}
const FIRST_NAME_CLAIM: ClaimNames = {
  names: [
    'firstname',
    'givenname',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
    'urn:oid:2.5.4.42',
    'urn:mace:dir:attribute-def:givenname',
  ],
  friendlyNames: ['givenname'],
}
const LAST_NAME_CLAIM: ClaimNames = {
  names: [
    'lastname',
    'surname',
    'sn',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
    'urn:oid:2.5.4.4',
    'urn:mace:dir:attribute-def:sn',
  ],
  friendlyNames: ['sn', 'surname'],
}
const EMAIL_CLAIM: ClaimNames = {
  names: [
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    'mail',
    'email',
    'urn:oid:0.9.2342.19200300.100.1.3',
    'urn:mace:dir:attribute-def:mail',
  ],
  friendlyNames: ['mail', 'email'],
}
const EMAIL_ATTRIBUTE_ADVICE =
  'Send the email address in an attribute named mail, email, urn:oid:0.9.2342.19200300.100.1.3 or http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress, or turn off "Take the email from an attribute" and send it as the NameID.'
const NAMEID_ADVICE =
  'In Entra, open the application > Single sign-on > Attributes & Claims, and set Unique User Identifier (Name ID) to user.mail (or user.userprincipalname) with name identifier format "Email address".'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

function decodeSamlResponse(samlResponse: string): string {
  if (typeof samlResponse !== 'string' || samlResponse.length > MAX_ENCODED_RESPONSE_CHARS) {
    throw new SamlError('too_large', 'The SAML response is larger than 256 KiB and was not read.')
  }
  const compact = samlResponse.replace(/[\r\n\t ]+/g, '')
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new SamlError('invalid_base64', 'The posted SAMLResponse is not valid Base64.')
  }
  const bytes = Buffer.from(compact, 'base64')
  if (bytes.length > MAX_DECODED_RESPONSE_BYTES) {
    throw new SamlError('too_large', 'The SAML response is larger than 256 KiB and was not read.')
  }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw new SamlError('malformed_xml', 'The SAML response is not UTF-8 text.')
  }
  return text
}

function structureInvalid(message: string): SamlError {
  return new SamlError('structure_invalid', message)
}

/** XSW defence (CVE-2025-47949 and the classic XSW1-8): an ID names exactly one element. */
function assertUniqueIds(root: Element): void {
  const seen = new Set<string>()
  const pending: Element[] = [root]
  for (let element = pending.pop(); element !== undefined; element = pending.pop()) {
    for (const name of ['ID', 'Id', 'id']) {
      const value = attributeOrNull(element, name)
      if (value === null) continue
      if (seen.has(value)) throw structureInvalid('The response contains two elements with the same ID.')
      seen.add(value)
    }
    for (let child = element.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === ELEMENT_NODE) pending.push(child as Element)
    }
  }
}

/** xmldsig-core 4.4.3.3 same-document reference, restricted to "#<ID of the element enveloping the signature>". */
function assertSignsItsParent(signature: Element, parent: Element): void {
  const signedInfo = firstChildNamed(signature, NS.dsig, 'SignedInfo')
  const references = signedInfo === null ? [] : childrenNamed(signedInfo, NS.dsig, 'Reference')
  const [reference] = references
  if (reference === undefined || references.length !== 1) {
    throw structureInvalid('Each signature must carry exactly one Reference.')
  }
  const id = parent.getAttribute('ID') ?? ''
  if (id.length === 0 || attributeOrNull(reference, 'URI') !== `#${id}`) {
    throw structureInvalid(`The signature inside ${parent.localName} does not reference that ${parent.localName}.`)
  }
}

function requiredText(element: Element, what: string): string {
  const text = soleText(element)
  if (text === null)
    throw structureInvalid(`${what} holds a comment or other markup inside its text, which is refused.`)
  return text
}

// saml-core 3.2.2.2: the top-level status codes; anything else is shown as "unknown".
const KNOWN_STATUSES = new Set(
  [
    'Success',
    'Requester',
    'Responder',
    'VersionMismatch',
    'AuthnFailed',
    'InvalidAttrNameOrValue',
    'InvalidNameIDPolicy',
    'NoAuthnContext',
    'NoAvailableIDP',
    'NoPassive',
    'NoSupportedIDP',
    'PartialLogout',
    'ProxyCountExceeded',
    'RequestDenied',
    'RequestUnsupported',
    'RequestVersionDeprecated',
    'RequestVersionTooHigh',
    'RequestVersionTooLow',
    'ResourceNotRecognized',
    'TooManyResponses',
    'UnknownAttrProfile',
    'UnknownPrincipal',
    'UnsupportedBinding',
  ].map((name) => `urn:oasis:names:tc:SAML:2.0:status:${name}`),
)

/** Whether the Response element carries a signature that verifies with the connection's keys. */
function responseSignatureHolds(response: Element, settings: ResponseValidationSettings, now: Date): boolean {
  const signature = firstChildNamed(response, NS.dsig, 'Signature')
  if (signature === null) return false
  try {
    assertSignsItsParent(signature, response)
    verifyEnvelopedSignature(signature, response, {
      keys: settings.keys,
      allowSha1: settings.allowSha1,
      now,
      clockSkewMs: settings.clockSkewMs,
    })
    return true
  } catch {
    return false
  }
}

function checkStatus(response: Element, settings: ResponseValidationSettings, now: Date): void {
  const status = firstChildNamed(response, NS.protocol, 'Status')
  const statusCode = status === null ? null : firstChildNamed(status, NS.protocol, 'StatusCode')
  const value = statusCode === null ? null : statusCode.getAttribute('Value')
  if (value === STATUS_SUCCESS) return
  const subCode = statusCode === null ? null : firstChildNamed(statusCode, NS.protocol, 'StatusCode')
  const statusMessage = status === null ? null : firstChildNamed(status, NS.protocol, 'StatusMessage')
  const messageText = statusMessage === null ? null : soleText(statusMessage)
  const describe = (uri: string | null | undefined) =>
    uri && KNOWN_STATUSES.has(uri) ? uri.replace(/^urn:oasis:names:tc:SAML:2\.0:status:/, '') : 'unknown'
  const detail = subCode === null ? '' : ` / ${describe(subCode.getAttribute('Value'))}`
  // An error Response usually carries no signature, so anyone can post one with any text: the
  // IdP's message is shown only when the IdP signed it, quoted as its words, bounded and stripped
  // of markup characters; otherwise only the status codes (a fixed vocabulary) are.
  const shown =
    messageText === null || !responseSignatureHolds(response, settings, now)
      ? ''
      : `; the IdP says: “${messageText
          .replace(/[<>&"“”\r\n]+/g, ' ')
          .trim()
          .slice(0, 200)}”`
  throw new SamlError('status_not_success', `The IdP refused the sign-in (status ${describe(value)}${detail})${shown}.`)
}

function soleAssertion(response: Element): Element {
  if (childrenNamed(response, NS.assertion, 'EncryptedAssertion').length > 0) {
    throw new SamlError(
      'encrypted_assertion_unsupported',
      'The response carries an encrypted assertion, which is not supported yet. In Entra, turn off token encryption for this application.',
    )
  }
  const assertions = childrenNamed(response, NS.assertion, 'Assertion')
  const [assertion] = assertions
  if (assertion === undefined) throw new SamlError('no_assertion', 'The response carries no assertion.')
  // Two assertions are how "an assertion this tenant issued to another app" gets smuggled in.
  if (assertions.length > 1) throw new SamlError('multiple_assertions', 'The response carries more than one assertion.')
  return assertion
}

function checkIssuer(element: Element, expected: string, where: string): string | null {
  const issuer = firstChildNamed(element, NS.assertion, 'Issuer')
  if (issuer === null) return null
  const format = attributeOrNull(issuer, 'Format')
  const value = requiredText(issuer, `The ${where} Issuer`)
  if ((format !== null && format !== ENTITY_FORMAT) || value !== expected) {
    throw new SamlError(
      'issuer_mismatch',
      `The ${where} was issued by "${value.slice(0, 200)}", not by the configured IdP "${expected}". Check the Microsoft Entra Identifier of this connection.`,
    )
  }
  return value
}

function parseInstant(element: Element, name: string): number | null {
  const value = attributeOrNull(element, name)
  return value === null ? null : Date.parse(value)
}

/**
 * The longest an accepted assertion may stay usable. Entra's are usable for minutes (bearer
 * confirmation) to about an hour (Conditions); a window of years ("9999-12-31") would keep its
 * replay-cache key, and the session it vouches for, alive forever.
 */
export const MAX_ASSERTION_VALIDITY_MS = 24 * 60 * 60 * 1000

function checkWindow(
  notBefore: number | null,
  notOnOrAfter: number | null,
  now: number,
  skewMs: number,
  what: string,
): void {
  if (notOnOrAfter !== null && notOnOrAfter - now > MAX_ASSERTION_VALIDITY_MS + skewMs) {
    throw new SamlError(
      'validity_too_long',
      `The ${what} stays valid until ${new Date(notOnOrAfter).toISOString()}, more than 24 hours from now, which is refused. Check the token lifetime configured at the IdP.`,
    )
  }
  if (notBefore !== null && now + skewMs < notBefore) {
    throw new SamlError(
      'not_yet_valid',
      `The ${what} is not valid before ${new Date(notBefore).toISOString()}. Check the clocks of this server and the IdP.`,
    )
  }
  if (notOnOrAfter !== null && now - skewMs >= notOnOrAfter) {
    throw new SamlError('expired', `The ${what} expired at ${new Date(notOnOrAfter).toISOString()}. Sign in again.`)
  }
}

function bearerConfirmationData(subject: Element): Element {
  const confirmations = childrenNamed(subject, NS.assertion, 'SubjectConfirmation').filter(
    (confirmation) => confirmation.getAttribute('Method') === BEARER,
  )
  const [confirmation] = confirmations
  if (confirmation === undefined || confirmations.length !== 1) {
    throw structureInvalid('The assertion must carry exactly one bearer SubjectConfirmation.')
  }
  const data = firstChildNamed(confirmation, NS.assertion, 'SubjectConfirmationData')
  if (data === null) throw structureInvalid('The bearer SubjectConfirmation lacks its SubjectConfirmationData.')
  return data
}

/** The NameID; unless `anyFormat`, it must be an email address (then it is what accounts are found by). */
function readNameId(subject: Element, anyFormat: boolean): { nameId: string; format: string | null } {
  const nameIdElement = firstChildNamed(subject, NS.assertion, 'NameID')
  if (nameIdElement === null) {
    throw new SamlError('nameid_missing', `The assertion carries no NameID. ${NAMEID_ADVICE}`)
  }
  const nameId = soleText(nameIdElement)
  if (nameId === null) {
    throw new SamlError(
      'nameid_invalid',
      'The NameID holds a comment or other markup inside its text, which is refused (it could change whose account is used).',
    )
  }
  const format = attributeOrNull(nameIdElement, 'Format')
  if (anyFormat) return { nameId, format }
  if ((format !== null && !EMAIL_FORMATS.has(format)) || !isEmailAddress(nameId)) {
    const formatName = format === null ? 'no format' : `format ${format.replace(/^.*nameid-format:/, '')}`
    throw new SamlError(
      'nameid_not_email',
      `The NameID sent by the IdP is not an email address (${formatName}). ${NAMEID_ADVICE}`,
    )
  }
  return { nameId, format }
}

interface SamlAttribute {
  name: string
  friendlyName: string | null
  values: string[]
}

function readAttributes(assertion: Element): SamlAttribute[] {
  return childrenNamed(assertion, NS.assertion, 'AttributeStatement').flatMap((statement) =>
    childrenNamed(statement, NS.assertion, 'Attribute').map((attribute) => {
      const name = attribute.getAttribute('Name') ?? ''
      return {
        name,
        friendlyName: attributeOrNull(attribute, 'FriendlyName'),
        values: childrenNamed(attribute, NS.assertion, 'AttributeValue').map((value) =>
          requiredText(value, `The attribute ${name.slice(0, 100)}`),
        ),
      }
    }),
  )
}

function attributesByName(attributes: readonly SamlAttribute[]): Record<string, string[]> {
  const byName: Record<string, string[]> = Object.create(null)
  for (const { name, values } of attributes) byName[name] = [...(byName[name] ?? []), ...values]
  return { ...byName }
}

/** The values of the attributes that carry `claim`, most specific name first, then by FriendlyName. */
function claimValues(attributes: readonly SamlAttribute[], claim: ClaimNames): string[] {
  const byName = (names: readonly string[], nameOf: (attribute: SamlAttribute) => string | null) =>
    names.flatMap((wanted) =>
      attributes.filter((attribute) => nameOf(attribute)?.toLowerCase() === wanted).flatMap(({ values }) => values),
    )
  return [
    ...byName(claim.names, ({ name }) => name),
    ...byName(claim.friendlyNames, ({ friendlyName }) => friendlyName),
  ]
    .map((value) => value.trim())
    .filter((value) => value.length > 0)
}

/**
 * The email an IdP vouches for in its attributes. Every attribute that carries one must agree:
 * an assertion naming two people is refused rather than guessed between.
 */
function emailFromAttributes(attributes: readonly SamlAttribute[]): string {
  const addresses = [...new Set(claimValues(attributes, EMAIL_CLAIM).map((value) => value.toLowerCase()))]
  const [address] = addresses
  if (address === undefined) {
    throw new SamlError(
      'email_attribute_missing',
      `This connection takes the email from an attribute, and the assertion carries none. ${EMAIL_ATTRIBUTE_ADVICE}`,
    )
  }
  if (addresses.length > 1) {
    throw new SamlError('email_attribute_invalid', 'The assertion carries several different email addresses.')
  }
  if (!isEmailAddress(address)) {
    throw new SamlError(
      'email_attribute_invalid',
      `The email attribute is not an email address. ${EMAIL_ATTRIBUTE_ADVICE}`,
    )
  }
  return address
}

function verifySignatures(
  response: Element,
  assertion: Element,
  settings: ResponseValidationSettings,
  now: Date,
): { responseSigned: boolean; signedBy: string } {
  const responseSignature = firstChildNamed(response, NS.dsig, 'Signature')
  const assertionSignature = firstChildNamed(assertion, NS.dsig, 'Signature')
  if (responseSignature === null && assertionSignature === null) {
    throw new SamlError(
      'signature_missing',
      'The response is not signed. In Entra, keep the signing option "Sign SAML assertion" (or sign response and assertion).',
    )
  }
  if (responseSignature !== null) assertSignsItsParent(responseSignature, response)
  if (assertionSignature !== null) assertSignsItsParent(assertionSignature, assertion)
  const options = { keys: settings.keys, allowSha1: settings.allowSha1, now, clockSkewMs: settings.clockSkewMs }
  // Every signature present must verify: a bad one is never ignored because another is good.
  const responseKey = responseSignature === null ? null : verifyEnvelopedSignature(responseSignature, response, options)
  const assertionKey =
    assertionSignature === null ? null : verifyEnvelopedSignature(assertionSignature, assertion, options)
  const signedBy = (assertionKey ?? responseKey)?.fingerprintSha256 ?? ''
  return { responseSigned: responseSignature !== null, signedBy }
}

export function parseResponseDocument(samlResponse: string): Document {
  return parseBoundedXml(decodeSamlResponse(samlResponse), RESPONSE_XML_LIMITS)
}

export async function validateSamlResponse(
  settings: ResponseValidationSettings,
  input: ResponseValidationInput,
): Promise<SamlIdentity> {
  const now = input.now ?? new Date()
  const nowMs = now.getTime()
  const skew = settings.clockSkewMs
  const document = parseResponseDocument(input.samlResponse)
  const response = validateResponseSchema(document)
  assertUniqueIds(response)
  checkStatus(response, settings, now)
  const assertion = soleAssertion(response)
  const { responseSigned, signedBy } = verifySignatures(response, assertion, settings, now)

  // saml-bindings 3.5.5.2: a signed message MUST carry Destination; when present it must be us.
  const destination = attributeOrNull(response, 'Destination')
  if ((destination === null && responseSigned) || (destination !== null && destination !== settings.sp.acsUrl)) {
    throw new SamlError(
      'destination_mismatch',
      `The response was sent to ${destination === null ? 'no Destination' : `"${destination.slice(0, 300)}"`}, not to this connection's Reply URL ${settings.sp.acsUrl}. Check the Reply URL in Entra.`,
    )
  }
  checkIssuer(response, settings.idpEntityId, 'response')
  const issuer = checkIssuer(assertion, settings.idpEntityId, 'assertion') ?? settings.idpEntityId

  // saml-profiles 4.1.4.2: the bearer SubjectConfirmationData carries Recipient and NotOnOrAfter.
  const subject = firstChildNamed(assertion, NS.assertion, 'Subject')
  if (subject === null) throw structureInvalid('The assertion has no Subject.')
  const confirmation = bearerConfirmationData(subject)
  const recipient = attributeOrNull(confirmation, 'Recipient')
  if (recipient !== settings.sp.acsUrl) {
    throw new SamlError(
      'recipient_mismatch',
      `The assertion is meant for ${recipient === null ? 'no Recipient' : `"${recipient.slice(0, 300)}"`}, not this connection's Reply URL ${settings.sp.acsUrl}. Check the Reply URL in Entra.`,
    )
  }
  const confirmationNotOnOrAfter = parseInstant(confirmation, 'NotOnOrAfter')
  if (confirmationNotOnOrAfter === null)
    throw structureInvalid('The bearer SubjectConfirmationData has no NotOnOrAfter.')
  checkWindow(parseInstant(confirmation, 'NotBefore'), confirmationNotOnOrAfter, nowMs, skew, 'assertion')

  // saml-core 2.5.1: Conditions bound the assertion's validity and its audience.
  const conditions = firstChildNamed(assertion, NS.assertion, 'Conditions')
  if (conditions === null) throw structureInvalid('The assertion has no Conditions.')
  const conditionsNotOnOrAfter = parseInstant(conditions, 'NotOnOrAfter')
  checkWindow(parseInstant(conditions, 'NotBefore'), conditionsNotOnOrAfter, nowMs, skew, 'assertion')
  const restrictions = childrenNamed(conditions, NS.assertion, 'AudienceRestriction')
  const audiences = restrictions.map((restriction) =>
    childrenNamed(restriction, NS.assertion, 'Audience').map((audience) => requiredText(audience, 'The Audience')),
  )
  // saml-core 2.5.1.4: every AudienceRestriction must name us.
  if (audiences.length === 0 || !audiences.every((names) => names.includes(settings.sp.entityId))) {
    throw new SamlError(
      'audience_mismatch',
      `The assertion is meant for ${
        audiences
          .flat()
          .map((name) => `"${name.slice(0, 200)}"`)
          .join(', ') || 'no audience'
      }, not this connection's Identifier ${settings.sp.entityId}. Check the Identifier (Entity ID) in Entra.`,
    )
  }

  const inResponseTo = checkInResponseTo(response, confirmation, responseSigned, settings, input.expectedRequestId)
  const { nameId, format } = readNameId(subject, settings.emailFromAttribute)
  const attributes = readAttributes(assertion)
  const email = settings.emailFromAttribute ? emailFromAttributes(attributes) : nameId.toLowerCase()
  const authnStatement = firstChildNamed(assertion, NS.assertion, 'AuthnStatement')
  const sessionIndex = authnStatement === null ? null : attributeOrNull(authnStatement, 'SessionIndex')
  const assertionId = assertion.getAttribute('ID') ?? ''

  // saml-profiles 4.1.4.5: remember the ID for as long as the assertion could still be accepted
  // (at most MAX_ASSERTION_VALIDITY_MS ahead, as checkWindow refused anything longer).
  const lastValidMs = Math.max(confirmationNotOnOrAfter, conditionsNotOnOrAfter ?? confirmationNotOnOrAfter) + skew
  if (!(await input.replayStore.remember(`${issuer} ${assertionId}`, new Date(lastValidMs)))) {
    throw new SamlError('replayed', 'This SAML response was already used. Sign in again from the start.')
  }
  const identity: SamlIdentity = {
    email,
    nameId,
    nameIdFormat: format,
    attributes: attributesByName(attributes),
    assertionId,
    issuer,
    notOnOrAfter: new Date(confirmationNotOnOrAfter),
    inResponseTo,
    signedBy,
  }
  const [firstName] = claimValues(attributes, FIRST_NAME_CLAIM)
  const [lastName] = claimValues(attributes, LAST_NAME_CLAIM)
  if (firstName !== undefined) identity.firstName = firstName
  if (lastName !== undefined) identity.lastName = lastName
  if (sessionIndex !== null) identity.sessionIndex = sessionIndex
  return identity
}

function checkInResponseTo(
  response: Element,
  confirmation: Element,
  responseSigned: boolean,
  settings: ResponseValidationSettings,
  expectedRequestId: string | null,
): string | null {
  // Only a signed value counts: the assertion's SubjectConfirmationData (or the Response's own
  // attribute when the Response itself is signed).
  const confirmed = attributeOrNull(confirmation, 'InResponseTo')
  const onResponse = attributeOrNull(response, 'InResponseTo')
  if (confirmed !== null && onResponse !== null && confirmed !== onResponse) {
    throw new SamlError('in_response_to_mismatch', 'The response and its assertion answer different requests.')
  }
  const signedValue = confirmed ?? (responseSigned ? onResponse : null)
  if (signedValue === null && onResponse !== null && onResponse !== ENTRA_PORTAL_TEST_REQUEST_ID) {
    throw new SamlError('in_response_to_mismatch', "The response's InResponseTo is not covered by its signature.")
  }
  if (signedValue === null || signedValue === ENTRA_PORTAL_TEST_REQUEST_ID) {
    if (!settings.allowIdpInitiated) {
      throw new SamlError(
        'unsolicited',
        'This sign-in was started from the IdP (for example My Apps or the "Test" button in Entra), which this connection does not allow. Start from the login page, or allow IdP-initiated sign-in in the SSO settings.',
      )
    }
    return null
  }
  if (expectedRequestId === null || signedValue !== expectedRequestId) {
    throw new SamlError(
      'in_response_to_mismatch',
      'The response answers a sign-in request this browser did not start (or one that already finished). Sign in again from the start.',
    )
  }
  return signedValue
}
