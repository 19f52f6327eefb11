import { type Subscription, subscribe } from '@gatehouse/events'
import type { FastifyBaseLogger } from 'fastify'
import type { RecoveryService } from './recovery.ts'

/** The subscriber group of the auth stream that turns reset requests into reset links. */
export const resetRequestsGroup = 'auth-password-resets'

/**
 * Issues the reset link of each `auth.password.reset_requested` (when an account holds its
 * address), in auth's worker processes, off the request path, like any other subscriber group.
 * Idempotent: a redelivered request finds its link issued (unique `request_event_id`).
 */
export function startResetRequests(deps: {
  recovery: RecoveryService
  redisUrl: string
  log: FastifyBaseLogger
}): Promise<Subscription> {
  return subscribe({ redisUrl: deps.redisUrl, group: resetRequestsGroup, log: deps.log }, async (event) => {
    if (event.type !== 'auth.password.reset_requested') return
    const outcome = await deps.recovery.issueResetLink(event)
    // No address in the log: whether an account holds it is exactly what the answer hides.
    deps.log.info({ eventId: event.id, outcome }, 'password reset request handled')
  })
}
