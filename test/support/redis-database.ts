import { randomInt } from 'node:crypto'
import type { createRedisConnection } from '@gatehouse/events'
import { redisUrl } from '@gatehouse/testing'

/**
 * The shared Redis with one of its numbered databases (1-15) instead of 0. Queues are shared by
 * name: a service process elsewhere on the machine (`pnpm dev` on an embedded database, another
 * engineer's test) consuming `invitation-events` from database 0 would take a test's events and
 * apply them to a database that does not hold the test's users. Processes of one test pass the
 * same URL, so they still see each other.
 */
export function isolatedRedisUrl(base: string = redisUrl): string {
  const url = new URL(base)
  url.pathname = `/${1 + randomInt(15)}`
  return url.href
}

/** Deletes every key matching `pattern` (SCAN, never KEYS: the shared Redis stays responsive). */
export async function removeKeys(redis: ReturnType<typeof createRedisConnection>, pattern: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5_000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
}
