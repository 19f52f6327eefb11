// One SSO connection, built once and cached by the caller: certificates parsed into KeyObjects and
// samlify's SP/IdP entities live here, so a login pays for none of that.
import { randomBytes } from 'node:crypto'
import samlify from 'samlify'
import { verificationKeyOf } from './certificates.ts'
import type { IdpConfig } from './idp-config.ts'
import type { ReplayStore } from './replay-store.ts'
import { type SamlIdentity, validateSamlResponse } from './response-validation.ts'
import { EMAIL_ADDRESS_FORMAT, HTTP_POST, type ServiceProviderUrls, samlServiceProvider } from './service-provider.ts'

export interface SamlConnectionOptions {
  sp: ServiceProviderUrls
  idp: IdpConfig
  allowIdpInitiated: boolean
  /** RSA-SHA1 / SHA-1 digests, refused unless an admin opts in for a legacy IdP. */
  allowSha1?: boolean
  /**
   * Take the email from an attribute (mail, emailaddress, urn:oid:0.9.2342.19200300.100.1.3) and
   * accept any NameID format, for IdPs whose NameID is persistent or transient. Default false.
   */
  emailFromAttribute?: boolean
  /** Tolerated clock difference with the IdP, in seconds (default 180). */
  clockSkewSeconds?: number
}

export interface SamlConnection {
  /** SPSSODescriptor for Entra's "Upload metadata file". */
  spMetadataXml(): string
  /** HTTP-Redirect binding (saml-bindings 3.4); keep `requestId` to check InResponseTo. */
  createAuthnRequest(options: { relayState?: string; now?: Date }): { redirectUrl: string; requestId: string }
  validateResponse(input: {
    samlResponse: string
    expectedRequestId: string | null
    now?: Date
    replayStore: ReplayStore
  }): Promise<SamlIdentity>
}

const DEFAULT_CLOCK_SKEW_SECONDS = 180
const MAX_RELAY_STATE_BYTES = 80 // saml-bindings 3.4.3: RelayState MUST NOT exceed 80 bytes
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'

/** saml-core 1.3.4: an ID with 160 bits of randomness, starting with a letter (xs:ID). */
function newRequestId(): string {
  return `id${randomBytes(20).toString('hex')}`
}

export function createSamlConnection(options: SamlConnectionOptions): SamlConnection {
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS
  if (!Number.isFinite(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > 600) {
    throw new RangeError('clockSkewSeconds must be between 0 and 600')
  }
  if (options.idp.certificates.length === 0) throw new RangeError('An IdP needs at least one certificate')
  const settings = {
    sp: options.sp,
    idpEntityId: options.idp.entityId,
    keys: options.idp.certificates.map(verificationKeyOf),
    allowIdpInitiated: options.allowIdpInitiated,
    allowSha1: options.allowSha1 ?? false,
    emailFromAttribute: options.emailFromAttribute ?? false,
    clockSkewMs: clockSkewSeconds * 1000,
  }
  const serviceProvider = samlServiceProvider(options.sp)
  const identityProvider = samlify.IdentityProvider({
    entityID: options.idp.entityId,
    singleSignOnService: [{ Binding: HTTP_REDIRECT, Location: options.idp.ssoUrl }],
    // Entra's logout endpoint is its Login URL; declared only so samlify does not warn on every build.
    singleLogoutService: [{ Binding: HTTP_REDIRECT, Location: options.idp.ssoUrl }],
    signingCert: options.idp.certificates.map((certificate) => certificate.pem),
  })
  let metadataXml: string | undefined

  return {
    // Built when first asked for: logins never need it.
    spMetadataXml: () => {
      metadataXml ??= serviceProvider.getMetadata()
      return metadataXml
    },

    createAuthnRequest({ relayState, now = new Date() }) {
      if (relayState !== undefined && Buffer.byteLength(relayState) > MAX_RELAY_STATE_BYTES) {
        throw new RangeError(`RelayState must not exceed ${MAX_RELAY_STATE_BYTES} bytes`)
      }
      const requestId = newRequestId()
      const context = serviceProvider.createLoginRequest(identityProvider, 'redirect', {
        ...(relayState === undefined ? {} : { relayState }),
        customTagReplacement: (template: string) => ({
          id: requestId,
          context: samlify.SamlLib.replaceTagsByValue(template, {
            ID: requestId,
            Destination: options.idp.ssoUrl,
            Issuer: options.sp.entityId,
            IssueInstant: now.toISOString(),
            NameIDFormat: EMAIL_ADDRESS_FORMAT,
            ProtocolBinding: HTTP_POST,
            AssertionConsumerServiceURL: options.sp.acsUrl,
            AllowCreate: 'false',
          }),
        }),
      })
      return { redirectUrl: context.context, requestId }
    },

    validateResponse: (input) => validateSamlResponse(settings, input),
  }
}
