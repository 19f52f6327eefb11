// One error type per concern, each with a stable snake_case reason that callers may branch on and a
// message fit to show a workspace admin (never raw XML, never a stack trace).
import { ReasonedError } from '@gatehouse/server/errors'

export type SamlErrorReason =
  | 'too_large'
  | 'invalid_base64'
  | 'malformed_xml'
  | 'dtd_forbidden'
  | 'schema_invalid'
  | 'structure_invalid'
  | 'signature_missing'
  | 'signature_invalid'
  | 'weak_algorithm'
  | 'certificate_expired'
  | 'multiple_assertions'
  | 'no_assertion'
  | 'encrypted_assertion_unsupported'
  | 'status_not_success'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'recipient_mismatch'
  | 'destination_mismatch'
  | 'not_yet_valid'
  | 'expired'
  | 'validity_too_long'
  | 'in_response_to_mismatch'
  | 'unsolicited'
  | 'replayed'
  | 'nameid_missing'
  | 'nameid_invalid'
  | 'nameid_not_email'
  | 'email_attribute_missing'
  | 'email_attribute_invalid'

export class SamlError extends ReasonedError<SamlErrorReason> {
  override readonly name = 'SamlError'
}

export type SamlConfigErrorReason = 'invalid_certificate' | 'invalid_url' | 'invalid_metadata'

export type SamlConfigField = 'ssoUrl' | 'entityId' | 'certificate' | 'metadataXml'

/** IdP configuration refused; `reason` is also the code the admin's request is answered with. */
export class SamlConfigError extends ReasonedError<SamlConfigErrorReason> {
  override readonly name = 'SamlConfigError'
  /** One human message per offending input field. */
  readonly fields: Record<string, string>

  constructor(reason: SamlConfigErrorReason, fields: Partial<Record<SamlConfigField, string>>) {
    super(reason, Object.values(fields).join(' '))
    this.fields = fields
  }
}
