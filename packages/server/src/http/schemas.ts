// The schemas every service's routes share, apart from the app itself so that contracts built on
// them (../internal/session-reach.ts) load TypeBox only, not Fastify.
import { Type } from 'typebox'

/** A response schema's reference to `ErrorBody` (registered by createApp), for routes' error statuses. */
export const ErrorRef = Type.Ref('Error')

/**
 * A UUID exactly as Postgres writes one: lower-case hex. Not `format: 'uuid'`: that also accepts
 * a `urn:uuid:` prefix, which Postgres refuses — a 500 for anyone who sends it. Upper case is
 * refused too: Postgres compares it equal but JavaScript does not, so one id answered 200 at auth
 * and 403 at invitation; every service now answers it alike.
 */
export const Uuid = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
})

export const ErrorBody = Type.Object(
  { error: Type.String({ description: 'stable snake_case code' }), message: Type.String() },
  { $id: 'Error', additionalProperties: true },
)
