// IdP configuration is data, validated when an admin saves it (the SAML Jackson lesson): the three
// values Entra shows (Login URL, Microsoft Entra Identifier, Certificate (Base64)) or its
// federation metadata XML.
import type { Element } from '@xmldom/xmldom'
import { CertificateProblem, describeCertificate, type IdpCertificate, parseCertificateText } from './certificates.ts'
import { SamlConfigError, SamlError } from './errors.ts'
import {
  attributeOrNull,
  childrenNamed,
  isNamed,
  METADATA_XML_LIMITS,
  NS,
  parseBoundedXml,
  soleText,
} from './xml-document.ts'

export type { IdpCertificate } from './certificates.ts'

export interface IdpConfig {
  ssoUrl: string
  entityId: string
  certificates: IdpCertificate[]
}

export interface ParsedIdpConfig extends IdpConfig {
  warnings: string[]
  /** The IdP's metadata says WantAuthnRequestsSigned="true" (saml-metadata 2.4.3); false for three values. */
  wantAuthnRequestsSigned: boolean
}

const MAX_URL_LENGTH = 2048
const MAX_ENTITY_ID_LENGTH = 1024
// Entra lists one signing certificate, two or three during a rollover; each costs a parse.
export const MAX_METADATA_CERTIFICATES = 10
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'

export interface IdpConfigOptions {
  now?: Date
  /**
   * Accept a plain-http Login URL on a loopback host (the dev IdP); default true for tests and
   * tools. The auth service passes false unless it runs in development. Otherwise the Login URL
   * must be https: the browser carries the AuthnRequest there in the clear.
   */
  allowLoopbackHttp?: boolean
}

function ssoUrlProblem(value: string, allowLoopbackHttp: boolean): string | null {
  const text = value.trim()
  if (text.length === 0) return 'Enter the Login URL from Entra.'
  if (text.length > MAX_URL_LENGTH) return `The Login URL is longer than ${MAX_URL_LENGTH} characters.`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'The Login URL is not a valid URL.'
  }
  if (url.username !== '' || url.password !== '') return 'The Login URL must not contain a user name or password.'
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:' && allowLoopbackHttp && LOCAL_HOSTS.has(url.hostname)) return null
  return allowLoopbackHttp
    ? 'The Login URL must use https (plain http is accepted only for localhost in development).'
    : 'The Login URL must use https.'
}

function entityIdProblem(value: string): string | null {
  const text = value.trim()
  if (text.length === 0) return 'Enter the Microsoft Entra Identifier.'
  if (text.length > MAX_ENTITY_ID_LENGTH)
    return `The Entra Identifier is longer than ${MAX_ENTITY_ID_LENGTH} characters.`
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\s]/.test(text)) return 'The Entra Identifier must not contain spaces or control characters.'
  return null
}

function describeAll(texts: string[], now: Date): { certificates: IdpCertificate[]; warnings: string[] } {
  const certificates: IdpCertificate[] = []
  const warnings: string[] = []
  for (const text of texts) {
    const described = describeCertificate(parseCertificateText(text), now)
    if (certificates.some((known) => known.fingerprintSha256 === described.certificate.fingerprintSha256)) continue
    certificates.push(described.certificate)
    warnings.push(...described.warnings)
  }
  return { certificates, warnings }
}

/**
 * One more IdP certificate, as an admin pastes it to add beside the current ones during a
 * rollover; the same checks and warnings as `idpConfigFromValues` gives the certificate field.
 */
export function idpCertificateFromText(
  text: string,
  options: { now?: Date } = {},
): { certificate: IdpCertificate; warnings: string[] } {
  try {
    const { certificates, warnings } = describeAll([text], options.now ?? new Date())
    const [certificate] = certificates
    if (certificate === undefined) throw new CertificateProblem('The certificate is empty.')
    return { certificate, warnings }
  } catch (error) {
    if (error instanceof CertificateProblem) {
      throw new SamlConfigError('invalid_certificate', { certificate: error.message })
    }
    throw error
  }
}

export function idpConfigFromValues(
  values: { ssoUrl: string; entityId: string; certificate: string },
  options: IdpConfigOptions = {},
): ParsedIdpConfig {
  const now = options.now ?? new Date()
  const urlProblem = ssoUrlProblem(values.ssoUrl, options.allowLoopbackHttp !== false)
  const entityProblem = entityIdProblem(values.entityId)
  if (urlProblem !== null || entityProblem !== null) {
    const fields: Record<string, string> = {}
    if (urlProblem !== null) fields.ssoUrl = urlProblem
    if (entityProblem !== null) fields.entityId = entityProblem
    throw new SamlConfigError('invalid_url', fields)
  }
  try {
    const { certificates, warnings } = describeAll([values.certificate], now)
    return {
      ssoUrl: values.ssoUrl.trim(),
      entityId: values.entityId.trim(),
      certificates,
      warnings,
      wantAuthnRequestsSigned: false,
    }
  } catch (error) {
    if (error instanceof CertificateProblem) {
      throw new SamlConfigError('invalid_certificate', { certificate: error.message })
    }
    throw error
  }
}

function metadataError(message: string): SamlConfigError {
  return new SamlConfigError('invalid_metadata', { metadataXml: message })
}

function findIdpDescriptor(root: Element): { entityId: string; descriptor: Element } {
  const entities = isNamed(root, NS.metadata, 'EntityDescriptor')
    ? [root]
    : isNamed(root, NS.metadata, 'EntitiesDescriptor')
      ? childrenNamed(root, NS.metadata, 'EntityDescriptor')
      : []
  const found = entities.flatMap((entity) =>
    childrenNamed(entity, NS.metadata, 'IDPSSODescriptor').map((descriptor) => ({
      entityId: entity.getAttribute('entityID') ?? '',
      descriptor,
    })),
  )
  const [only] = found
  if (only === undefined || found.length !== 1) {
    throw metadataError(
      found.length === 0
        ? 'The metadata holds no IdP (IDPSSODescriptor). Download "Federation Metadata XML" from Entra.'
        : 'The metadata describes several IdPs; upload the one of your Entra application.',
    )
  }
  return only
}

function signingCertificateTexts(descriptor: Element): string[] {
  return childrenNamed(descriptor, NS.metadata, 'KeyDescriptor')
    .filter((keyDescriptor) => (keyDescriptor.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((keyDescriptor) => childrenNamed(keyDescriptor, NS.dsig, 'KeyInfo'))
    .flatMap((keyInfo) => childrenNamed(keyInfo, NS.dsig, 'X509Data'))
    .flatMap((x509Data) => childrenNamed(x509Data, NS.dsig, 'X509Certificate'))
    .map((element) => soleText(element) ?? '')
}

/**
 * Federation metadata as Entra serves it (UTF-8 BOM, several signing certificates during a
 * rollover: all are kept, saml-metadata 2.4.1.1). The document's own signature is not checked:
 * the admin uploads it over an authenticated session, which is the trust anchor.
 */
export function idpConfigFromMetadata(metadataXml: string, options: IdpConfigOptions = {}): ParsedIdpConfig {
  const now = options.now ?? new Date()
  const text = metadataXml.replace(/^\uFEFF/, '')
  let root: Element
  try {
    const document = parseBoundedXml(text, METADATA_XML_LIMITS)
    if (document.documentElement === null) throw metadataError('The metadata is empty.')
    root = document.documentElement
  } catch (error) {
    if (error instanceof SamlError) {
      throw metadataError(
        error.reason === 'too_large' ? error.message : `The metadata is not valid XML: ${error.message}`,
      )
    }
    throw error
  }
  const { entityId, descriptor } = findIdpDescriptor(root)
  const redirectService = childrenNamed(descriptor, NS.metadata, 'SingleSignOnService').find(
    (service) => attributeOrNull(service, 'Binding') === REDIRECT_BINDING,
  )
  const ssoUrl = redirectService?.getAttribute('Location') ?? ''
  const fields: Record<string, string> = {}
  const urlProblem =
    redirectService === undefined
      ? 'The metadata has no HTTP-Redirect SingleSignOnService.'
      : ssoUrlProblem(ssoUrl, options.allowLoopbackHttp !== false)
  if (urlProblem !== null) fields.ssoUrl = urlProblem
  const entityProblem = entityIdProblem(entityId)
  if (entityProblem !== null) fields.entityId = entityProblem
  const certificateTexts = signingCertificateTexts(descriptor)
  if (certificateTexts.length === 0) fields.certificate = 'The metadata lists no signing certificate.'
  if (certificateTexts.length > MAX_METADATA_CERTIFICATES)
    fields.certificate = `The metadata lists more than ${MAX_METADATA_CERTIFICATES} signing certificates.`
  if (Object.keys(fields).length > 0)
    throw new SamlConfigError('invalid_metadata', { metadataXml: Object.values(fields).join(' '), ...fields })
  const certificates: IdpCertificate[] = []
  const warnings: string[] = []
  const refused: string[] = []
  for (const certificateText of certificateTexts) {
    try {
      const described = describeAll([certificateText], now)
      for (const certificate of described.certificates) {
        if (!certificates.some((known) => known.fingerprintSha256 === certificate.fingerprintSha256)) {
          certificates.push(certificate)
        }
      }
      warnings.push(...described.warnings)
    } catch (error) {
      if (!(error instanceof CertificateProblem)) throw error
      refused.push(error.message)
    }
  }
  if (certificates.length === 0) {
    throw new SamlConfigError('invalid_certificate', { certificate: refused.join(' '), metadataXml: refused.join(' ') })
  }
  // During a rollover an expired certificate may still be listed beside the new one: keep the
  // usable ones and tell the admin about the others.
  warnings.push(...refused.map((reason) => `A certificate in the metadata was skipped: ${reason}`))
  // xs:boolean admits "true" and "1".
  const wantAuthnRequestsSigned = ['true', '1'].includes(attributeOrNull(descriptor, 'WantAuthnRequestsSigned') ?? '')
  return { ssoUrl: ssoUrl.trim(), entityId: entityId.trim(), certificates, warnings, wantAuthnRequestsSigned }
}
