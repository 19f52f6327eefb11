import samlify from 'samlify'

// The SP side of one connection, as CONTRACT.md fixes it: every URL derives from PUBLIC_URL and
// the connection id, so what the admin pasted into Entra stays valid as long as those two do.

export interface ServiceProviderUrls {
  /** Entra's "Identifier (Entity ID)"; also the Audience every assertion must name. */
  entityId: string
  /** Entra's "Reply URL (Assertion Consumer Service URL)"; Destination and Recipient must equal it. */
  acsUrl: string
  metadataUrl: string
  loginUrl: string
}

export function serviceProviderUrls(publicUrl: string | URL, connectionId: string): ServiceProviderUrls {
  const url = new URL(publicUrl)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`PUBLIC_URL must be http(s), got ${url.protocol}`)
  }
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(connectionId)) {
    throw new TypeError('A connection id may only hold letters, digits, "-" and "_"')
  }
  const origin = `${url.origin}${url.pathname}`.replace(/\/+$/, '')
  const entityId = `${origin}/sso/saml/${connectionId}`
  return {
    entityId,
    acsUrl: `${entityId}/acs`,
    metadataUrl: `${entityId}/metadata`,
    loginUrl: `${entityId}/login`,
  }
}

export const EMAIL_ADDRESS_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
export const HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'

/** The SP's signing side as its metadata shows it. */
export interface SpSigning {
  /** PEM certificates of the SP signing keys, all published (during a rotation, old and new). */
  certificates: readonly string[]
  /** saml-metadata 2.4.4: the SP signs its AuthnRequests. */
  authnRequestsSigned: boolean
}

const UNSIGNED: SpSigning = { certificates: [], authnRequestsSigned: false }

/** samlify's SP entity for these URLs: signed assertions wanted, email NameID, our signing certificates. */
export function samlServiceProvider(sp: ServiceProviderUrls, signing: SpSigning = UNSIGNED) {
  return samlify.ServiceProvider({
    entityID: sp.entityId,
    authnRequestsSigned: signing.authnRequestsSigned,
    wantAssertionsSigned: true,
    // saml-metadata 2.4.1.1: a KeyDescriptor use="signing" per certificate, so an IdP that
    // refreshes the metadata trusts the new key and the old one alike during a rotation.
    ...(signing.certificates.length === 0 ? {} : { signingCert: [...signing.certificates] }),
    nameIDFormat: [EMAIL_ADDRESS_FORMAT],
    assertionConsumerService: [{ Binding: HTTP_POST, Location: sp.acsUrl, isDefault: true }],
  })
}

/**
 * SP metadata (SPSSODescriptor) for Entra's "Upload metadata file". Needs no IdP, so an admin can
 * download it before pasting Entra's values back.
 */
export function spMetadataXml(sp: ServiceProviderUrls, signing: SpSigning = UNSIGNED): string {
  return samlServiceProvider(sp, signing).getMetadata()
}
