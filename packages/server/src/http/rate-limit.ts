import { isIPv4, isIPv6 } from 'node:net'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { normalizeEmail } from '../email.ts'
import { errors } from '../errors.ts'
import { isRedisUnavailable } from '../redis/client.ts'
import { rateLimitKey } from '../redis/keys.ts'

export interface RateLimitRule {
  /** Names the counter, e.g. `login:net`. */
  name: string
  /** Attempts allowed per window. */
  limit: number
  windowSeconds: number
  /** The subject counted (a network, an email and a network); `undefined` skips this rule. */
  key: (request: FastifyRequest) => string | undefined
}

/**
 * What one client network is, for every per-address limit: an IPv4 address, or an IPv6 /64 (one
 * subscriber is given a whole /64, so counting single IPv6 addresses would give them unlimited
 * fresh ones). An IPv4-mapped IPv6 address is its IPv4 address.
 */
export function networkOf(ip: string): string {
  const mapped = ip.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/)
  if (mapped?.[1] !== undefined) return mapped[1]
  if (isIPv4(ip) || !isIPv6(ip)) return ip
  const [head = '', tail = ''] = ip.split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const groups = ip.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16))
    .join(':')}::/64`
}

/** At most `limit` attempts per client network (`networkOf`) per window. */
export function perNetwork(name: string, limit: number, windowSeconds = 60): RateLimitRule {
  return { name: `${name}:net`, limit, windowSeconds, key: (request) => networkOf(request.ip) }
}

const emailOf = (request: FastifyRequest) => {
  const email = (request.body as { email?: unknown } | undefined)?.email
  // Counted by the email as the services store it; what is not an email is refused anyway.
  return typeof email === 'string' ? (normalizeEmail(email) ?? undefined) : undefined
}

/**
 * At most `limit` attempts per (email in the body, client network) per window: what one network
 * may do to one email without the limit reaching the owner on theirs.
 */
export function perEmailAndNetwork(name: string, limit: number, windowSeconds: number): RateLimitRule {
  return {
    name: `${name}:email-net`,
    limit,
    windowSeconds,
    key: (request) => {
      const email = emailOf(request)
      return email === undefined ? undefined : `${email}:${networkOf(request.ip)}`
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

/** One counter to charge: `subject` (a network, an account, an email) under the rule `name`. */
export interface Limit {
  name: string
  limit: number
  windowSeconds: number
  subject: string
  /** What the 429 says, instead of "Too many attempts. Wait … and try again.". */
  message?: (retryAfter: string) => string
}

/**
 * Counts one attempt against each limit in turn and refuses with 429 `rate_limited`, and a
 * `Retry-After` of the seconds left in the window, at the first one used up. Fails open while
 * Redis is down: the facts these limits guard live in Postgres.
 */
export async function enforceLimits(redis: Redis, limits: Limit[], log: FastifyBaseLogger): Promise<void> {
  for (const limit of limits) {
    const key = rateLimitKey(limit.name, limit.subject)
    let count: number
    let secondsLeft = limit.windowSeconds
    try {
      count = await countAttempt(redis, key, limit.windowSeconds)
      if (count > limit.limit) secondsLeft = await redis.ttl(key)
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error
      // Sign-in and invitation acceptance keep working while Redis is down; brute force stays
      // bounded by argon2's cost for that while.
      log.warn({ code: 'redis_unavailable', rule: limit.name }, 'rate limit not counted: redis unavailable')
      return
    }
    if (count > limit.limit) throw limitRefusal(limit, secondsLeft)
  }
}

/** The 429 `rate_limited` of a used-up `limit`, whose window ends in `secondsLeft` (its TTL). */
export function limitRefusal(limit: Limit, secondsLeft: number) {
  const retryAfterSeconds = Math.max(1, secondsLeft > 0 ? secondsLeft : limit.windowSeconds)
  const wait = formatWindow(retryAfterSeconds)
  const refusal = errors.rateLimited(limit.message?.(wait) ?? `Too many attempts. Wait ${wait} and try again.`)
  refusal.headers['retry-after'] = String(retryAfterSeconds)
  return refusal
}

/**
 * A preHandler that refuses with 429 `rate_limited` once any rule's subject has used up its
 * window. Runs after body parsing, so rules can count per email as well as per IP.
 */
export function rateLimit(redis: Redis, rules: RateLimitRule[]) {
  return async (request: FastifyRequest) => {
    const limits = rules.flatMap((rule) => {
      const subject = rule.key(request)
      return subject === undefined ? [] : [{ ...rule, subject }]
    })
    await enforceLimits(redis, limits, request.log)
  }
}

function formatWindow(seconds: number): string {
  if (seconds >= 7200) return `${Math.round(seconds / 3600)} hours`
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : seconds >= 60 ? 'a minute' : `${seconds} seconds`
}
