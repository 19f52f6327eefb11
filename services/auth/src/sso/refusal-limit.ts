import { BoundedCache } from '@gatehouse/server/bounded-cache'
import { countAttempt, networkOf } from '@gatehouse/server/http'
import { isRedisUnavailable } from '@gatehouse/server/redis'
import { rateLimitKey } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'

const maximumBlockedAddresses = 10_000

/**
 * Bounds how many refused SAML responses one client address may post per window, so that a flood
 * of garbage cannot fill the outbox and the login stream with failed-login events. Refusals are
 * counted in Redis (shared by every replica); an address past the limit is then turned away by
 * each replica from memory, with no database or Redis work, until the window ends. Successful
 * sign-ins are not counted: a whole office behind one address signing in at 9:00 is never limited.
 */
export function createRefusalLimit(redis: Redis, options: { limit?: number; windowSeconds?: number } = {}) {
  const limit = options.limit ?? 60
  const windowSeconds = options.windowSeconds ?? 60
  const blocked = new BoundedCache<string, true>({ capacity: maximumBlockedAddresses, ttlMs: windowSeconds * 1000 })

  return {
    /** Whether this address has used up its refusals for now. */
    exceeded(ip: string): boolean {
      return blocked.get(networkOf(ip)) !== undefined
    },

    /** Counts a refusal of this address; fails open while Redis is unreachable. */
    async count(ip: string): Promise<void> {
      const subject = networkOf(ip)
      let refusals: number
      try {
        refusals = await countAttempt(redis, rateLimitKey('saml-refusals', subject), windowSeconds)
      } catch (error) {
        if (isRedisUnavailable(error)) return
        throw error
      }
      if (refusals <= limit) return
      blocked.set(subject, true)
    },
  }
}

export type RefusalLimit = ReturnType<typeof createRefusalLimit>
