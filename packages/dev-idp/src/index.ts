export { buildDevIdpApp, type DevIdpAppOptions } from './app.ts'
export {
  type AuthnRequestQuery,
  type ParseAuthnRequestOptions,
  type ParsedAuthnRequest,
  parseAuthnRequest,
} from './authn-request.ts'
export { DevIdpError, type DevIdpErrorReason } from './errors.ts'
export { createDevIdp, type DevIdp, type DevIdpOptions, defaultBaseUrl, defaultTenantId } from './idp.ts'
export {
  certificateBase64,
  certificatePemCrlf,
  defaultCommonName,
  type GenerateSigningKeysOptions,
  generateSigningKeys,
  loadOrCreateSigningKeys,
  type SigningKeys,
} from './keys.ts'
export { buildFederationMetadataXml, type MetadataIdentity } from './metadata.ts'
export type { RegisteredApplication, RememberedUser } from './registry.ts'
export {
  entraClaims,
  nameIdFormatEmail,
  objectIdFor,
  type ResponseOptions,
  type SamlAttribute,
  type SamlUser,
  statusSuccess,
} from './response.ts'
export {
  type SamlSchema,
  type SchemaVerdict,
  samlSchemaInstallCommand,
  samlSchemaToolMissing,
  validateAgainstSamlSchema,
} from './saml-schema.ts'
export {
  EcdsaSha256,
  type SignatureAlgorithmName,
  type SignElementOptions,
  signatureAlgorithmUris,
  signElement,
} from './sign.ts'
