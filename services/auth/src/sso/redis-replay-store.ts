import { createHash } from 'node:crypto'
import type { ReplayStore } from '@gatehouse/saml'
import { samlAssertionKey } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'

/** One use of something kept in Redis until `untilMs` (Unix ms): `SET key 1 PXAT untilMs NX`. */
export interface SingleUse {
  key: string
  untilMs: number
}

/**
 * An assertion's entry in the replay cache: expiring when the assertion itself stops being valid
 * (NotOnOrAfter plus skew), after which the time check alone refuses a replay. The key (issuer and
 * assertion ID, attacker-chosen lengths) is hashed to keep it bounded.
 */
export function assertionUse(connectionId: string, assertionKey: string, expiresAt: Date): SingleUse {
  const digest = createHash('sha256').update(assertionKey).digest('base64url')
  return { key: samlAssertionKey(connectionId, digest), untilMs: Math.max(expiresAt.getTime(), Date.now() + 1000) }
}

/** Assertion IDs seen by any replica, each remembered at once (`SET NX`). */
export function redisReplayStore(redis: Redis, connectionId: string): ReplayStore {
  return {
    async remember(assertionKey, expiresAt) {
      const { key, untilMs } = assertionUse(connectionId, assertionKey, expiresAt)
      const stored = await redis.set(key, '1', 'PXAT', untilMs, 'NX')
      return stored === 'OK'
    },
  }
}

/**
 * A replay store that only notes the assertion a validation accepted, for the caller to record in
 * the same round trip as its other single-use keys (acs-admission.ts). The response counts as
 * accepted only once that is done.
 */
export function deferredReplayStore(connectionId: string) {
  let noted: SingleUse | undefined
  const store: ReplayStore = {
    async remember(assertionKey, expiresAt) {
      noted = assertionUse(connectionId, assertionKey, expiresAt)
      return true
    },
  }
  return {
    store,
    /** The accepted assertion's use; throws if no validation accepted one. */
    noted(): SingleUse {
      if (noted === undefined) throw new Error('no assertion was accepted through this replay store')
      return noted
    },
  }
}
