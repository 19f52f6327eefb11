import { Redis, type RedisOptions } from 'ioredis'

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

/** Resolves when Redis answers PING within `timeoutMs`. */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
