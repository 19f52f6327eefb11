import { createHash, randomUUID } from 'node:crypto'
import { DevIdpError } from './errors.ts'
import type { SigningKeys } from './keys.ts'
import { type SignatureAlgorithmName, signElement } from './sign.ts'
import { escapeXml } from './xml-text.ts'

export interface SamlUser {
  email: string
  firstName?: string
  lastName?: string
  /** Default: the email. */
  nameId?: string
  /** Default: urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress. */
  nameIdFormat?: string
  /** Entra's objectidentifier claim. Default: a UUID derived from the email, stable across logins. */
  objectId?: string
}

export interface ResponseOptions {
  sp: { entityId: string; acsUrl: string }
  user: SamlUser
  /** Omitted: an IdP-initiated response, with no InResponseTo anywhere. */
  inResponseTo?: string
  /** IssueInstant. Default: the current time. */
  now?: Date
  /** Default: `now`. Entra sends the time the user last signed in, often hours earlier. */
  authnInstant?: Date
  /** Default true (Entra's default, "Sign SAML assertion"). */
  signAssertion?: boolean
  /** Default false. When true the Response is signed too, after the assertion. */
  signResponse?: boolean
  /** Default rsa-sha256 (ecdsa-sha256 for an EC key); the digest follows (sha256 or sha1). */
  signatureAlgorithm?: SignatureAlgorithmName
  /** Default urn:oasis:names:tc:SAML:2.0:status:Success. */
  statusCode?: string
  statusMessage?: string
  /** Default: true on success, false otherwise (Entra sends no assertion with an error status). */
  includeAssertion?: boolean
  extraAttributes?: Record<string, string[]>
  /**
   * Exactly these attributes instead of Entra's claims (and `extraAttributes`): how other IdPs name
   * them, e.g. `urn:oid:2.5.4.42` with NameFormat uri and FriendlyName givenName.
   */
  attributes?: SamlAttribute[]
  /** Sign with other keys than the IdP's own (attack tests). */
  keys?: SigningKeys
}

export interface SamlAttribute {
  name: string
  nameFormat?: string
  friendlyName?: string
  values: string[]
}

export interface IssuerIdentity {
  tenantId: string
  entityId: string
  keys: SigningKeys
}

export const statusSuccess = 'urn:oasis:names:tc:SAML:2.0:status:Success'
export const nameIdFormatEmail = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'

const minuteMs = 60 * 1000

// Claim URIs exactly as Entra names them (see the fixtures' AttributeStatement).
export const entraClaims = {
  tenantId: 'http://schemas.microsoft.com/identity/claims/tenantid',
  objectId: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  displayName: 'http://schemas.microsoft.com/identity/claims/displayname',
  identityProvider: 'http://schemas.microsoft.com/identity/claims/identityprovider',
  authnMethodsReferences: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  givenName: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  surname: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  emailAddress: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
} as const

const passwordAuthnMethod = 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password'

/** A signed SAML Response laid out byte-for-byte the way Entra lays its responses out. */
export function buildResponseXml(issuer: IssuerIdentity, options: ResponseOptions): string {
  requireText(options.sp?.entityId, 'sp.entityId')
  requireText(options.sp?.acsUrl, 'sp.acsUrl')
  requireText(options.user?.email, 'user.email')
  const keys = options.keys ?? issuer.keys
  const now = options.now ?? new Date()
  const statusCode = options.statusCode ?? statusSuccess
  const includeAssertion = options.includeAssertion ?? statusCode === statusSuccess
  const responseId = `_${randomUUID()}`
  const assertionId = `_${randomUUID()}`
  const inResponseTo = options.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(options.inResponseTo)}"`

  const statusMessage =
    options.statusMessage === undefined
      ? ''
      : `<samlp:StatusMessage>${escapeXml(options.statusMessage)}</samlp:StatusMessage>`
  let xml =
    `<samlp:Response ID="${responseId}" Version="2.0" IssueInstant="${instant(now)}" Destination="${escapeXml(options.sp.acsUrl)}"${inResponseTo} xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">${escapeXml(issuer.entityId)}</Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${escapeXml(statusCode)}"/>${statusMessage}</samlp:Status>` +
    (includeAssertion ? assertionXml(issuer, options, assertionId, now) : '') +
    '</samlp:Response>'

  const signing = { keys, ...(options.signatureAlgorithm ? { algorithm: options.signatureAlgorithm } : {}) }
  if (includeAssertion && options.signAssertion !== false) xml = signElement(xml, assertionId, signing)
  if (options.signResponse === true) xml = signElement(xml, responseId, signing)
  return xml
}

function assertionXml(issuer: IssuerIdentity, options: ResponseOptions, assertionId: string, now: Date): string {
  const { user, sp } = options
  const inResponseTo = options.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(options.inResponseTo)}"`
  // Entra's windows: Conditions from 5 minutes before issue to an hour after; the bearer
  // confirmation only 5 minutes after issue (socialflow fixture).
  const notBefore = instant(new Date(now.getTime() - 5 * minuteMs))
  const notOnOrAfter = instant(new Date(now.getTime() + 60 * minuteMs))
  const confirmationNotOnOrAfter = instant(new Date(now.getTime() + 5 * minuteMs))
  return (
    `<Assertion ID="${assertionId}" IssueInstant="${instant(now)}" Version="2.0" xmlns="urn:oasis:names:tc:SAML:2.0:assertion">` +
    `<Issuer>${escapeXml(issuer.entityId)}</Issuer>` +
    '<Subject>' +
    `<NameID Format="${escapeXml(user.nameIdFormat ?? nameIdFormatEmail)}">${escapeXml(user.nameId ?? user.email)}</NameID>` +
    '<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<SubjectConfirmationData${inResponseTo} NotOnOrAfter="${confirmationNotOnOrAfter}" Recipient="${escapeXml(sp.acsUrl)}"/>` +
    '</SubjectConfirmation>' +
    '</Subject>' +
    `<Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}">` +
    `<AudienceRestriction><Audience>${escapeXml(sp.entityId)}</Audience></AudienceRestriction>` +
    '</Conditions>' +
    attributeStatementXml(issuer, options) +
    // Entra's SessionIndex is the assertion's own ID (every fixture).
    `<AuthnStatement AuthnInstant="${instant(options.authnInstant ?? now)}" SessionIndex="${assertionId}">` +
    '<AuthnContext><AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</AuthnContextClassRef></AuthnContext>' +
    '</AuthnStatement>' +
    '</Assertion>'
  )
}

// saml-core 2.7.3: an AttributeStatement holds at least one attribute, so none means no statement.
function attributeStatementXml(issuer: IssuerIdentity, options: ResponseOptions): string {
  const attributes = attributesXml(issuer, options)
  return attributes === '' ? '' : `<AttributeStatement>${attributes}</AttributeStatement>`
}

function attributesXml(issuer: IssuerIdentity, options: ResponseOptions): string {
  if (options.attributes !== undefined) return options.attributes.map(attributeXml).join('')
  const { user } = options
  const displayName = [user.firstName, user.lastName].filter(Boolean).join(' ') || user.email
  // Entra leaves a claim out when the directory has no value for it, so empty names send nothing.
  const attributes: Array<[string, Array<string | undefined>]> = [
    [entraClaims.tenantId, [issuer.tenantId]],
    [entraClaims.objectId, [user.objectId ?? objectIdFor(user.email)]],
    [entraClaims.displayName, [displayName]],
    [entraClaims.identityProvider, [issuer.entityId]],
    [entraClaims.authnMethodsReferences, [passwordAuthnMethod]],
    [entraClaims.givenName, [user.firstName]],
    [entraClaims.surname, [user.lastName]],
    [entraClaims.emailAddress, [user.email]],
    [entraClaims.name, [user.email]],
    // The two custom claims HeyGen's Entra set-up article asks admins to add, under these exact names.
    ['firstName', [user.firstName]],
    ['lastname', [user.lastName]],
    ...Object.entries(options.extraAttributes ?? {}),
  ]
  return attributes
    .map(([name, values]) => {
      const present = values.filter((value): value is string => value !== undefined && value !== '')
      if (present.length === 0) return ''
      const valuesXml = present.map((value) => `<AttributeValue>${escapeXml(value)}</AttributeValue>`).join('')
      return `<Attribute Name="${escapeXml(name)}">${valuesXml}</Attribute>`
    })
    .join('')
}

function attributeXml(attribute: SamlAttribute): string {
  const nameFormat = attribute.nameFormat === undefined ? '' : ` NameFormat="${escapeXml(attribute.nameFormat)}"`
  const friendlyName =
    attribute.friendlyName === undefined ? '' : ` FriendlyName="${escapeXml(attribute.friendlyName)}"`
  const valuesXml = attribute.values.map((value) => `<AttributeValue>${escapeXml(value)}</AttributeValue>`).join('')
  return `<Attribute Name="${escapeXml(attribute.name)}"${nameFormat}${friendlyName}>${valuesXml}</Attribute>`
}

/** A UUID derived from the email, so one dev user keeps one object ID across logins and restarts. */
export function objectIdFor(email: string): string {
  const hex = createHash('sha256').update(`dev-idp:${email.toLowerCase()}`).digest('hex')
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function instant(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new DevIdpError('invalid_option', 'an instant is not a valid date')
  return date.toISOString()
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new DevIdpError('invalid_option', `${name} is required`)
  }
}
