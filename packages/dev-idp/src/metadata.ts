import { randomUUID } from 'node:crypto'
import { certificateBase64, type SigningKeys } from './keys.ts'
import { signElement } from './sign.ts'
import { escapeXml } from './xml-text.ts'

export interface MetadataIdentity {
  entityId: string
  loginUrl: string
  logoutUrl: string
  keys: SigningKeys
  /**
   * The certificates published (each a KeyDescriptor), by default the signing key's alone. During a
   * rollover Entra publishes its next certificate beside the current one before signing with it.
   */
  certificatesPem?: string[]
  /** Publishes WantAuthnRequestsSigned="true" (saml-metadata 2.4.3): the IdP asks for signed requests. */
  wantAuthnRequestsSigned?: boolean
}

/**
 * Federation metadata with the SAML part of Entra's document: a signed EntityDescriptor whose
 * IDPSSODescriptor has the signing certificate, the logout URL and the sign-on URL for both bindings.
 * (Entra also lists WS-Federation RoleDescriptors, which no SAML SP reads.)
 */
export function buildFederationMetadataXml(identity: MetadataIdentity): string {
  const descriptorId = `_${randomUUID()}`
  const keyInfo = (identity.certificatesPem ?? [identity.keys.certificatePem])
    .map(
      (certificatePem) =>
        '<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data>' +
        `<X509Certificate>${certificateBase64(certificatePem)}</X509Certificate>` +
        '</X509Data></KeyInfo></KeyDescriptor>',
    )
    .join('')
  const loginUrl = escapeXml(identity.loginUrl)
  const xml =
    `<EntityDescriptor ID="${descriptorId}" entityID="${escapeXml(identity.entityId)}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
    `<IDPSSODescriptor${identity.wantAuthnRequestsSigned ? ' WantAuthnRequestsSigned="true"' : ''} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    keyInfo +
    `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(identity.logoutUrl)}"/>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${loginUrl}"/>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${loginUrl}"/>` +
    '</IDPSSODescriptor>' +
    '</EntityDescriptor>'
  return `<?xml version="1.0" encoding="utf-8"?>${signElement(xml, descriptorId, { keys: identity.keys })}`
}
