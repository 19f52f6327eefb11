import {
  type AuthnRequestQuery,
  type ParseAuthnRequestOptions,
  type ParsedAuthnRequest,
  parseAuthnRequest,
} from './authn-request.ts'
import { DevIdpError } from './errors.ts'
import { assertKeysMatch, certificateBase64, certificatePemCrlf, type SigningKeys } from './keys.ts'
import { buildFederationMetadataXml } from './metadata.ts'
import { buildResponseXml, type ResponseOptions } from './response.ts'

export interface DevIdpOptions {
  keys: SigningKeys
  /** A UUID, as Entra's tenant IDs are. Default: a fixed one, so URLs survive restarts. */
  tenantId?: string
  /** Where browsers reach the dev IdP. Default http://localhost:3003. */
  baseUrl?: string
}

export interface DevIdp {
  tenantId: string
  /** Entra's "Microsoft Entra Identifier". */
  entityId: string
  /** Entra's "Login URL"; takes an AuthnRequest through the HTTP-Redirect binding. */
  loginUrl: string
  /** Entra's "Logout URL" (the same endpoint as the Login URL, as in Entra). */
  logoutUrl: string
  metadataUrl: string
  /** PEM with CRLF line endings, like Entra's downloaded "Certificate (Base64)" .cer file. */
  certificatePem: string
  /** The certificate's base64 body on one line. */
  certificateBase64: string
  keys: SigningKeys
  federationMetadataXml(): string
  responseXml(options: ResponseOptions): string
  responseBase64(options: ResponseOptions): string
  /** `parseAuthnRequest` holding the request to this IdP: Destination = Login URL, issued recently (default now). */
  parseAuthnRequest(query: AuthnRequestQuery, options?: ParseAuthnRequestOptions): ParsedAuthnRequest
}

export const defaultTenantId = '6d1c9a3e-2f4b-4e8a-9c7d-5b0e1f2a3c4d'
export const defaultBaseUrl = 'http://localhost:3003'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function createDevIdp(options: DevIdpOptions): DevIdp {
  const tenantId = (options.tenantId ?? defaultTenantId).toLowerCase()
  if (!uuidPattern.test(tenantId)) throw new DevIdpError('invalid_option', 'tenantId must be a UUID')
  const baseUrl = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, '')
  const parsedBaseUrl = URL.canParse(baseUrl) ? new URL(baseUrl) : undefined
  if (parsedBaseUrl === undefined || !['http:', 'https:'].includes(parsedBaseUrl.protocol)) {
    throw new DevIdpError('invalid_option', 'baseUrl must be an http(s) URL')
  }
  assertKeysMatch(options.keys)
  const keys = options.keys
  const entityId = `https://sts.windows.net/${tenantId}/`
  const loginUrl = `${baseUrl}/${tenantId}/saml2`
  const logoutUrl = loginUrl
  const identity = { tenantId, entityId, keys }
  let metadataXml: string | undefined

  return {
    tenantId,
    entityId,
    loginUrl,
    logoutUrl,
    metadataUrl: `${baseUrl}/${tenantId}/federationmetadata/2007-06/federationmetadata.xml`,
    certificatePem: certificatePemCrlf(keys.certificatePem),
    certificateBase64: certificateBase64(keys.certificatePem),
    keys,
    federationMetadataXml() {
      metadataXml ??= buildFederationMetadataXml({ entityId, loginUrl, logoutUrl, keys })
      return metadataXml
    },
    responseXml: (responseOptions) => buildResponseXml(identity, responseOptions),
    responseBase64: (responseOptions) => Buffer.from(buildResponseXml(identity, responseOptions)).toString('base64'),
    parseAuthnRequest: (query, requestOptions) =>
      parseAuthnRequest(query, { loginUrl, now: new Date(), ...requestOptions }),
  }
}
