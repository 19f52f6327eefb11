import { createHash } from 'node:crypto'
import type { ReplayStore } from '@gatehouse/saml'
import { samlAssertionKey } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'

/**
 * Assertion IDs seen by any replica: `SET NX` expiring when the assertion itself stops being
 * valid (NotOnOrAfter plus skew), after which the time check alone refuses a replay. The key
 * (issuer and assertion ID, attacker-chosen lengths) is hashed to keep it bounded.
 */
export function redisReplayStore(redis: Redis, connectionId: string): ReplayStore {
  return {
    async remember(assertionKey, expiresAt) {
      const digest = createHash('sha256').update(assertionKey).digest('base64url')
      const expiresAtMs = Math.max(expiresAt.getTime(), Date.now() + 1000)
      const stored = await redis.set(samlAssertionKey(connectionId, digest), '1', 'PXAT', expiresAtMs, 'NX')
      return stored === 'OK'
    },
  }
}
