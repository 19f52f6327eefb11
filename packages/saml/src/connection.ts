// One SSO connection, built once and cached by the caller: certificates parsed into KeyObjects and
// the SP metadata are kept here, so a login pays for none of that.
import type { KeyObject } from 'node:crypto'
import { authnRequestXml, newRequestId, redirectQuery, redirectUrl } from './authn-request.ts'
import { verificationKeyOf } from './certificates.ts'
import type { IdpConfig } from './idp-config.ts'
import type { ReplayStore } from './replay-store.ts'
import { type SamlIdentity, validateSamlResponse } from './response-validation.ts'
import { type ServiceProviderUrls, type SpSigning, spMetadataXml } from './service-provider.ts'
import { signingKeyOf, signRedirectQuery } from './sp-signing-key.ts'

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
  /**
   * The SP's signing certificates, published in its metadata, and when AuthnRequests are to be
   * signed (then the metadata says AuthnRequestsSigned="true") the PEM key that signs them, asked
   * for at the first request: responses never need it, so a key that cannot be unsealed stops
   * sign-in starts, not the ACS.
   */
  spSigning?: { certificates: readonly string[]; requestSigningKey?: () => string }
}

export interface SamlConnection {
  /** SPSSODescriptor for Entra's "Upload metadata file". */
  spMetadataXml(): string
  /** HTTP-Redirect binding (saml-bindings 3.4); keep `requestId` to check InResponseTo. */
  /**
   * `loginHint`: the email the person typed at Gatehouse, sent as `login_hint` (Entra pre-fills its
   * sign-in page with it); it must be an email address.
   */
  createAuthnRequest(options: { relayState?: string; loginHint?: string; now?: Date }): {
    redirectUrl: string
    requestId: string
  }
  validateResponse(input: {
    samlResponse: string
    expectedRequestId: string | null
    now?: Date
    replayStore: ReplayStore
  }): Promise<SamlIdentity>
}

const DEFAULT_CLOCK_SKEW_SECONDS = 180
const MAX_RELAY_STATE_BYTES = 80 // saml-bindings 3.4.3: RelayState MUST NOT exceed 80 bytes

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
  const readSigningKey = options.spSigning?.requestSigningKey
  let requestSigningKey: KeyObject | undefined
  const spSigning: SpSigning = {
    certificates: options.spSigning?.certificates ?? [],
    authnRequestsSigned: readSigningKey !== undefined,
  }
  let metadataXml: string | undefined

  return {
    // Built when first asked for: logins never need it.
    spMetadataXml: () => {
      metadataXml ??= spMetadataXml(options.sp, spSigning)
      return metadataXml
    },

    createAuthnRequest({ relayState, loginHint, now = new Date() }) {
      if (relayState !== undefined && Buffer.byteLength(relayState) > MAX_RELAY_STATE_BYTES) {
        throw new RangeError(`RelayState must not exceed ${MAX_RELAY_STATE_BYTES} bytes`)
      }
      const requestId = newRequestId()
      const SAMLRequest = authnRequestXml({
        id: requestId,
        issueInstant: now,
        destination: options.idp.ssoUrl,
        issuer: options.sp.entityId,
        acsUrl: options.sp.acsUrl,
      })
      let query = redirectQuery({ SAMLRequest, RelayState: relayState })
      if (readSigningKey !== undefined) {
        requestSigningKey ??= signingKeyOf(readSigningKey())
        query = signRedirectQuery(query, requestSigningKey)
      }
      return { redirectUrl: redirectUrl(options.idp.ssoUrl, query, loginHint), requestId }
    },

    validateResponse: (input) => validateSamlResponse(settings, input),
  }
}
