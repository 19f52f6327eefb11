import { randomInt } from 'node:crypto'
import { createRedisConnection } from '@gatehouse/events'
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

const silentLog = { info: () => {}, warn: () => {}, error: () => {} }

/** One of Redis's numbered databases that no connected client has selected. */
export async function unusedRedisDatabaseUrl(): Promise<string> {
  const probe = createRedisConnection(redisUrl, 'waiting', silentLog, 'redis-database-probe')
  try {
    const clients = String(await probe.call('CLIENT', 'LIST'))
    const inUse = new Set([...clients.matchAll(/\bdb=(\d+)/g)].map((match) => Number(match[1])))
    const free = Array.from({ length: 15 }, (_, index) => index + 1).filter((database) => !inUse.has(database))
    const database = free[Math.floor(Math.random() * free.length)]
    if (database === undefined) throw new Error('every Redis database 1-15 has a client connected')
    const url = new URL(redisUrl)
    url.pathname = `/${database}`
    return url.href
  } finally {
    probe.disconnect()
  }
}
