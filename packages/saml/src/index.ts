export type { IdpCertificate } from './certificates.ts'
export { createSamlConnection, type SamlConnection, type SamlConnectionOptions } from './connection.ts'
export {
  SamlConfigError,
  type SamlConfigErrorReason,
  SamlError,
  type SamlErrorReason,
} from './errors.ts'
export {
  type IdpConfig,
  type IdpConfigOptions,
  idpCertificateFromText,
  idpConfigFromMetadata,
  idpConfigFromValues,
  MAX_METADATA_CERTIFICATES,
  type ParsedIdpConfig,
} from './idp-config.ts'
export { MemoryReplayStore, type ReplayStore } from './replay-store.ts'
export { samlifySchemaValidator, validateResponseSchema } from './response-schema.ts'
export {
  ENTRA_PORTAL_TEST_REQUEST_ID,
  MAX_DECODED_RESPONSE_BYTES,
  type SamlIdentity,
} from './response-validation.ts'
export { type ServiceProviderUrls, type SpSigning, serviceProviderUrls, spMetadataXml } from './service-provider.ts'
export { generateSpSigningKey, RSA_SHA256, type SpSigningKeyPair, spCertificateFacts } from './sp-signing-key.ts'
export { METADATA_XML_LIMITS, RESPONSE_XML_LIMITS, type XmlLimits } from './xml-document.ts'
