import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { normalizeEmail } from './email.ts'
import { errors } from './errors.ts'
import { isRedisUnavailable } from './redis.ts'

export interface RateLimitRule {
  /** Names the counter, e.g. `login:ip`. */
  name: string
  /** Attempts allowed per window. */
  limit: number
  windowSeconds: number
  /** The subject counted (an IP, a normalized email); `undefined` skips this rule. */
  key: (request: FastifyRequest) => string | undefined
}

/** At most `limit` attempts per client IP per window. */
export function perIp(name: string, limit: number, windowSeconds = 60): RateLimitRule {
  return { name: `${name}:ip`, limit, windowSeconds, key: (request) => request.ip }
}

/**
 * At most `limit` attempts per email in the JSON body (`email`) per window, whichever IP they
 * come from: what stops a botnet guessing one person's password.
 */
export function perEmail(name: string, limit: number, windowSeconds: number): RateLimitRule {
  return {
    name: `${name}:email`,
    limit,
    windowSeconds,
    // Counted by the email as the services store it; what is not an email is refused anyway.
    key: (request) => {
      const email = (request.body as { email?: unknown } | undefined)?.email
      return typeof email === 'string' ? (normalizeEmail(email) ?? undefined) : undefined
    },
  }
}

// One round trip: count the attempt and start the window on the first one. Fixed windows in
// Redis hold across replicas, which is all a brute-force limit needs.
const countAttemptScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count`

type CountingRedis = Redis & { gatehouseCountAttempt(key: string, windowSeconds: number): Promise<number> }

/** Counts one attempt under `key` in a window of `windowSeconds`; the count so far in this window. */
export async function countAttempt(redis: Redis, key: string, windowSeconds: number): Promise<number> {
  const counting = redis as CountingRedis
  // A defined command goes by its script's hash (EVALSHA), not its text, after the first call.
  if (typeof counting.gatehouseCountAttempt !== 'function') {
    redis.defineCommand('gatehouseCountAttempt', { numberOfKeys: 1, lua: countAttemptScript })
  }
  return Number(await counting.gatehouseCountAttempt(key, windowSeconds))
}

/**
 * A preHandler that refuses with 429 `rate_limited` once any rule's subject has used up its
 * window. Runs after body parsing, so rules can count per email as well as per IP.
 */
export function rateLimit(redis: Redis, rules: RateLimitRule[]) {
  return async (request: FastifyRequest) => {
    for (const rule of rules) {
      const subject = rule.key(request)
      if (subject === undefined) continue
      const key = `ratelimit:${rule.name}:${subject}`
      let count: number
      try {
        count = await countAttempt(redis, key, rule.windowSeconds)
      } catch (error) {
        if (!isRedisUnavailable(error)) throw error
        // Fail open: while Redis is down, sign-in and invitation acceptance keep working (their
        // facts live in Postgres); brute force stays bounded by argon2's cost for that while.
        request.log.warn({ rule: rule.name }, 'rate limit not counted: redis unavailable')
        return
      }
      if (count > rule.limit) {
        throw errors.rateLimited(`Too many attempts. Wait ${formatWindow(rule.windowSeconds)} and try again.`)
      }
    }
  }
}

function formatWindow(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : seconds >= 60 ? 'a minute' : `${seconds} seconds`
}
