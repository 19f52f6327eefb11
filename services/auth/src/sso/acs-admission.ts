// What the ACS records of a genuine response, in one Redis round trip: its assertion as used (the
// replay cache), its start as answered, and the sign-in limits counted. As separate commands these
// were four round trips a sign-in, each a socket write and a reply to parse on auth's event loop.
import { type Limit, limitRefusal } from '@gatehouse/server/http'
import { rateLimitKey } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'
import type { SingleUse } from './redis-replay-store.ts'

// KEYS: the single-use keys (ARGV[1] of them), then one counter per limit. ARGV: that number, each
// single-use key's expiry (Unix ms), then each limit's window (seconds) and allowance. Stops at the
// first key already used or limit used up, as the commands one after another did: {0, 0} when all
// held, {i, 0} when single-use key i was used before, {i, TTL} when counter i is past its allowance.
const admitScript = `
local singles = tonumber(ARGV[1])
for i = 1, singles do
  if not redis.call('SET', KEYS[i], '1', 'PXAT', ARGV[1 + i], 'NX') then return {i, 0} end
end
for i = singles + 1, #KEYS do
  local at = 2 + singles + 2 * (i - singles - 1)
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[at]) end
  if count > tonumber(ARGV[at + 1]) then return {i, redis.call('TTL', KEYS[i])} end
end
return {0, 0}`

type AdmittingRedis = Redis & {
  gatehouseAdmitOnce(numberOfKeys: number, ...keysAndArguments: (string | number)[]): Promise<[number, number]>
}

/** Why a response was not admitted: a key used before (which one), or a limit's 429. */
export type AdmissionRefusal = { used: SingleUse } | { limited: ReturnType<typeof limitRefusal> }

/**
 * Marks each of `uses` used (in order) and counts one attempt against each of `limits` (in order);
 * null when all held, else the first refusal. Unlike `enforceLimits` this does not fail open while
 * Redis is down: the single-use keys it writes are what stop a replay.
 */
export async function admitOnce(redis: Redis, uses: SingleUse[], limits: Limit[]): Promise<AdmissionRefusal | null> {
  const admitting = redis as AdmittingRedis
  // A defined command goes by its script's hash (EVALSHA), not its text, after the first call.
  if (typeof admitting.gatehouseAdmitOnce !== 'function') {
    redis.defineCommand('gatehouseAdmitOnce', { lua: admitScript })
  }
  const keys = [...uses.map((use) => use.key), ...limits.map((limit) => rateLimitKey(limit.name, limit.subject))]
  const limitArguments = limits.flatMap((limit) => [limit.windowSeconds, limit.limit])
  const [failed, secondsLeft] = await admitting.gatehouseAdmitOnce(
    keys.length,
    ...keys,
    uses.length,
    ...uses.map((use) => use.untilMs),
    ...limitArguments,
  )
  if (failed === 0) return null
  const use = uses[failed - 1]
  if (use) return { used: use }
  const limit = limits[failed - 1 - uses.length]
  if (!limit) throw new Error(`the admission script named no key ${failed}`)
  return { limited: limitRefusal(limit, secondsLeft) }
}
