import { ReasonedError } from '@gatehouse/server/errors'

/** Stable reasons a caller (or a test) may branch on; the message is for people. */
export type DevIdpErrorReason =
  | 'invalid_authn_request'
  | 'invalid_xml'
  | 'invalid_xml_character'
  | 'invalid_option'
  | 'element_not_found'
  | 'duplicate_element_id'
  | 'algorithm_key_mismatch'
  | 'invalid_signing_keys'

export class DevIdpError extends ReasonedError<DevIdpErrorReason> {
  override readonly name = 'DevIdpError'
  /** The AADSTS code Entra answers the same mistake with, shown on the refusal page. */
  readonly entraCode: string | undefined

  constructor(reason: DevIdpErrorReason, message: string, options?: { cause?: unknown; entraCode?: string }) {
    super(reason, message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.entraCode = options?.entraCode
  }
}
