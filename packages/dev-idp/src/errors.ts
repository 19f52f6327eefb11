/** Stable codes a caller (or a test) may branch on; the message is for people. */
export type DevIdpErrorCode =
  | 'invalid_authn_request'
  | 'invalid_xml'
  | 'invalid_xml_character'
  | 'invalid_option'
  | 'element_not_found'
  | 'duplicate_element_id'
  | 'algorithm_key_mismatch'
  | 'invalid_signing_keys'

export class DevIdpError extends Error {
  readonly code: DevIdpErrorCode
  /** The AADSTS code Entra answers the same mistake with, shown on the refusal page. */
  readonly entraCode: string | undefined

  constructor(code: DevIdpErrorCode, message: string, options?: { cause?: unknown; entraCode?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DevIdpError'
    this.code = code
    this.entraCode = options?.entraCode
  }
}
