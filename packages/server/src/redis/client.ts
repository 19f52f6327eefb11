import { once } from 'node:events'
import { type Command, Redis, type RedisOptions, ReplyError } from 'ioredis'
import { isRedisUnavailable, RedisUnavailableError } from '../failures.ts'
import { withTimeout } from '../timeout.ts'

export { isRedisUnavailable, RedisUnavailableError }

/** A pino or Fastify logger fits as is. */
export interface RedisLog {
  info(details: Record<string, unknown>, message: string): void
  warn(details: Record<string, unknown>, message: string): void
}

export interface CreateRedisOptions {
  /**
   * - `failFast` (request handlers, the outbox pumps): while Redis is down commands fail at once,
   *   and one it does not answer fails after 5 s, so a request answers 503 instead of hanging and a
   *   pump backs off holding no row locks;
   * - `waiting` (BullMQ workers, stream readers): commands wait for the reconnection, as BullMQ
   *   requires (`maxRetriesPerRequest: null`).
   */
  role?: 'failFast' | 'waiting'
  /** The connection's name in Redis (CLIENT LIST) and in log lines. */
  name?: string
  log?: RedisLog
  /** Anything else for ioredis (tests: `db`). */
  options?: RedisOptions
}

// Far above any command these clients send (a counter, a small script, a queue's add), so a busy
// machine does not trip it.
const failFastCommandTimeoutMs = 5_000

/** The one way to open a Redis connection. */
export function createRedis(url: string, options: CreateRedisOptions = {}): Redis {
  const name = options.name ?? 'gatehouse'
  // A failFast command also has a time limit: a Redis that stops answering on an open connection
  // (a partition that drops packets, a stalled server) would otherwise hold it, and the request
  // behind it, until TCP gives up minutes later; past the limit it is an outage like the others.
  const roleOptions: RedisOptions =
    options.role === 'waiting'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: failFastCommandTimeoutMs }
  const redis = new Redis(url, {
    ...roleOptions,
    connectionName: name,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    ...options.options,
  })
  // ioredis rejects a command with the server's ReplyError, or with an Error of its own when the
  // connection cannot carry it: those become RedisUnavailableError at the one place every command
  // of this client passes (pipelines and scripts included).
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = (command: Command, stream) => {
    const reject = command.reject
    command.reject = (error: Error) =>
      reject(
        error instanceof ReplyError
          ? error
          : new RedisUnavailableError(`redis is ${redis.status}: ${error.message}`, { cause: error }),
      )
    return send(command, stream)
  }
  // ioredis emits an error per failed reconnection attempt: report an outage once, and its end.
  let down = false
  redis.on('error', (error: Error) => {
    if (!down)
      options.log?.warn({ code: 'redis_unavailable', err: error.message, connection: name }, 'redis unavailable')
    down = true
  })
  redis.on('ready', () => {
    if (down) options.log?.info({ connection: name }, 'redis available again')
    down = false
  })
  return redis
}

/** Closes a connection whether or not Redis is reachable right now. */
export async function closeRedis(redis: Redis): Promise<void> {
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

/** Resolves when Redis answers PING within `timeoutMs` (waiting for a connection in progress). */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  const ping = async () => {
    if (redis.status === 'end') throw new RedisUnavailableError('redis connection is closed')
    // Waits for a connection in progress; the signal removes the listener, which would otherwise
    // stay until Redis came back, one more for each probe through an outage.
    if (redis.status !== 'ready') {
      await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) }).catch((error: unknown) => {
        throw new RedisUnavailableError(`redis is ${redis.status}`, { cause: error })
      })
    }
    await redis.ping()
  }
  await withTimeout(
    ping(),
    timeoutMs,
    () => new RedisUnavailableError(`redis did not answer within ${timeoutMs} ms (${redis.status})`),
  )
}
