// Password guessing is slowed per (email, network), not per email alone: a per-email block let
// anyone lock an owner out of their own account with 11 wrong passwords a few minutes apart. A
// network that keeps failing for an email waits longer and longer (back-off); the networks the
// owner has signed in from keep working while strangers' networks are held back, and a
// successful sign-in clears its network's failures.
import { errors } from '@gatehouse/server/errors'
import { networkOf } from '@gatehouse/server/http'
import { isRedisUnavailable } from '@gatehouse/server/redis'
import { loginFailures, loginNetworks } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'

export interface LoginThrottleOptions {
  /** Failures one network may have for one email before it must wait. */
  freeFailures?: number
  /** The longest wait, and how long failures are remembered after the last one. */
  maxWaitSeconds?: number
  /** Failures for one email from networks it has never signed in from, before those are held back. */
  strangerFailures?: number
}

// One round trip per failure: count it, note when, and keep it for the back-off window.
const recordFailureScript = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 0 then
  if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
end
return count`

type ThrottleRedis = Redis & {
  gatehouseRecordLoginFailure(
    pairKey: string,
    strangerKey: string,
    knownKey: string,
    now: number,
    ttl: number,
    network: string,
  ): Promise<number>
}

export function createLoginThrottle(redis: Redis, options: LoginThrottleOptions = {}) {
  const freeFailures = options.freeFailures ?? 5
  const maxWaitSeconds = options.maxWaitSeconds ?? loginFailures.maxSeconds
  const strangerFailures = options.strangerFailures ?? 30
  const throttleRedis = redis as ThrottleRedis
  redis.defineCommand('gatehouseRecordLoginFailure', { numberOfKeys: 3, lua: recordFailureScript })

  const keysOf = (email: string, ip: string) => {
    const network = networkOf(ip)
    return {
      network,
      pair: loginFailures.pair(email, network),
      stranger: loginFailures.strangers(email),
      known: loginNetworks.key(email),
    }
  }

  /** Redis down: sign-in keeps working, bounded by argon2's cost meanwhile (as rateLimit does). */
  async function failOpen<T>(work: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (isRedisUnavailable(error)) return fallback
      throw error
    }
  }

  return {
    /** Refuses with 429 while this network must wait before trying this email again. */
    async check(email: string, ip: string, now = Date.now()): Promise<void> {
      const keys = keysOf(email, ip)
      const [[count, last], strangers, known] = await failOpen(
        () =>
          Promise.all([
            redis.hmget(keys.pair, 'count', 'last'),
            redis.get(keys.stranger),
            redis.sismember(keys.known, keys.network),
          ]),
        [[null, null], null, 0] as [(string | null)[], string | null, number],
      )
      const failures = Number(count ?? 0)
      if (failures >= freeFailures) {
        const waitSeconds = Math.min(2 ** (failures - freeFailures), maxWaitSeconds)
        const remaining = Math.ceil((Number(last ?? 0) + waitSeconds * 1000 - now) / 1000)
        if (remaining > 0) {
          throw errors.rateLimited(
            `Too many wrong passwords from your network. Wait ${describe(remaining)} and try again.`,
          )
        }
      }
      // A botnet spreads its guesses over many networks: past a total, only networks the owner
      // has signed in from may keep trying this email.
      if (known === 0 && Number(strangers ?? 0) >= strangerFailures) {
        throw errors.rateLimited('Too many wrong passwords for this account. Wait a few minutes and try again.')
      }
    },

    async failed(email: string, ip: string, now = Date.now()): Promise<void> {
      const keys = keysOf(email, ip)
      await failOpen(
        () =>
          throttleRedis.gatehouseRecordLoginFailure(
            keys.pair,
            keys.stranger,
            keys.known,
            now,
            maxWaitSeconds,
            keys.network,
          ),
        0,
      )
    },

    /** The owner proved the password from this network: it is theirs, and its failures are forgiven. */
    async succeeded(email: string, ip: string): Promise<void> {
      const keys = keysOf(email, ip)
      await failOpen(async () => {
        if ((await redis.scard(keys.known)) >= loginNetworks.maxMembers) await redis.del(keys.known)
        await redis
          .multi()
          .del(keys.pair)
          .sadd(keys.known, keys.network)
          .expire(keys.known, loginNetworks.seconds)
          .exec()
      }, undefined)
    },
  }
}

function describe(seconds: number): string {
  return seconds >= 90 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>
