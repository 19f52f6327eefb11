/**
 * The one error type of every Gatehouse service. `code` is the stable word of CONTRACT.md that
 * clients branch on; `details` adds fields to the JSON body (e.g. `fields`, `reason`).
 */
export class AppError extends Error {
  override readonly name = 'AppError'
  readonly statusCode: number
  readonly code: string
  readonly details: Record<string, unknown>
  /** Response headers the answer carries, e.g. `retry-after` on a 429. */
  readonly headers: Record<string, string> = {}
  constructor(statusCode: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.statusCode = statusCode
    this.code = code
    this.details = details
  }
}

/**
 * The error of a part that answers no request itself (the SAML core, the IdP metadata fetcher, the
 * dev IdP's SAML builders): `reason` is its stable snake_case word and the message one fit to show
 * a workspace admin. The service that called it answers with its catalogue's error, the reason
 * among the details (`saml_invalid` or `invalid_metadata_url`, with `reason`) or as the code itself
 * (`invalid_certificate`). A part declares its own subclass, so callers tell whose refusal it is:
 * `class SamlError extends ReasonedError<SamlErrorReason>`.
 */
export class ReasonedError<Reason extends string> extends Error {
  readonly reason: Reason
  constructor(reason: Reason, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

/** Declares an error once: `const NotFound = defineError(404, 'not_found', 'Not found')`, then `throw NotFound()`. */
export function defineError(statusCode: number, code: string, defaultMessage: string) {
  return (message: string = defaultMessage, details?: Record<string, unknown>) =>
    new AppError(statusCode, code, message, details)
}

export const errors = {
  badRequest: defineError(400, 'bad_request', 'The request is malformed.'),
  unauthenticated: defineError(401, 'unauthenticated', 'Sign in first.'),
  forbidden: defineError(403, 'forbidden', 'You do not have access to this.'),
  forbiddenOrigin: defineError(403, 'forbidden_origin', 'This request came from another site and was refused.'),
  notFound: defineError(404, 'not_found', 'Not found.'),
  unsupportedMediaType: defineError(415, 'unsupported_media_type', 'Send JSON (Content-Type: application/json).'),
  rateLimited: defineError(429, 'rate_limited', 'Too many attempts. Wait a minute and try again.'),
  unavailable: defineError(503, 'service_unavailable', 'This is unavailable for a moment. Try again shortly.'),
  internal: defineError(500, 'internal_error', 'Something went wrong on our side. Try again shortly.'),
}
