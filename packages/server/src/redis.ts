import { Redis, type RedisOptions } from 'ioredis'
import { withTimeout } from './timeout.ts'

/**
 * A Redis client for request handlers: while Redis is down, commands fail fast instead of
 * queueing, so a request answers 503 rather than hanging. Workers (BullMQ) make their own
 * clients with `maxRetriesPerRequest: null`, as BullMQ requires.
 */
export function createRedis(url: string, options: RedisOptions = {}, log?: { warn: (message: string) => void }): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
    ...options,
  })
  // Connection errors surface through failing commands and /readyz; log each outage once.
  let reported = false
  redis.on('error', (error: Error) => {
    if (!reported) log?.warn(`redis unavailable: ${error.message}`)
    reported = true
  })
  redis.on('ready', () => {
    reported = false
  })
  return redis
}

/** Resolves when Redis answers PING within `timeoutMs` (waiting for a connection in progress). */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  const ping = async () => {
    if (redis.status === 'end') throw new Error('redis connection is closed')
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
    await redis.ping()
  }
  await withTimeout(ping(), timeoutMs, () => new Error(`redis did not answer within ${timeoutMs} ms (${redis.status})`))
}

/**
 * Whether an error only says Redis cannot be reached right now (ioredis fails fast with these while
 * disconnected): answered as 503, not as a bug.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|connect ECONNREFUSED|connect ETIMEDOUT/.test(error.message)
  )
}
