import { Redis, type RedisOptions } from 'ioredis'

/** The logger the package writes to: a pino or Fastify logger fits as is. */
export interface EventsLog {
  info(details: Record<string, unknown>, message: string): void
  warn(details: Record<string, unknown>, message: string): void
  error(details: Record<string, unknown>, message: string): void
}

/** Without a logger, problems still reach stderr; routine progress is not printed. */
export const defaultLog: EventsLog = {
  info: () => {},
  warn: (details, message) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...details })),
  error: (details, message) => console.error(JSON.stringify({ level: 'error', msg: message, ...details })),
}

/**
 * How a connection behaves while Redis is down:
 * - `waiting` (BullMQ workers, stream subscribers): commands wait for the reconnection, as
 *   BullMQ requires (`maxRetriesPerRequest: null`);
 * - `failFast` (the outbox relay): commands fail at once, so the relay rolls back its claim and
 *   backs off instead of holding row locks through an outage.
 */
export type ConnectionRole = 'waiting' | 'failFast'

/** The package's one way to open a Redis connection. */
export function createRedisConnection(
  url: string,
  role: ConnectionRole,
  log: EventsLog = defaultLog,
  connectionName = 'gatehouse-events',
): Redis {
  const roleOptions: RedisOptions =
    role === 'waiting' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false }
  const redis = new Redis(url, {
    ...roleOptions,
    connectionName,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  })
  // ioredis emits an error per failed reconnection attempt: report an outage once, and its end.
  let down = false
  redis.on('error', (error: Error) => {
    if (!down) log.warn({ err: error.message, connection: connectionName }, 'redis unavailable')
    down = true
  })
  redis.on('ready', () => {
    if (down) log.info({ connection: connectionName }, 'redis available again')
    down = false
  })
  return redis
}

/** Closes a connection whether or not Redis is reachable right now. */
export async function closeRedisConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // Redis went away between the check and QUIT: nothing is left to flush.
    }
  }
  redis.disconnect()
}
