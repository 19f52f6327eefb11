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
