// What a failure is when it only says Postgres or Redis is away (a back-off and a retry, or a
// 503, never a bug), and the `code` of the one line that reports a failure of background work,
// a scrape or a best-effort announcement. No dependencies: every concern may load it.

/**
 * A command that could not reach Redis (down, reconnecting, closed, or too slow): a 503 or a
 * back-off, never a bug. Every client from `createRedis` raises it instead of ioredis's untyped
 * connection errors; Redis's own refusals (WRONGTYPE, OOM, a script error) stay `ReplyError`s.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError'
}

/** Whether an error only says Redis cannot be reached right now. */
export function isRedisUnavailable(error: unknown): error is RedisUnavailableError {
  return error instanceof RedisUnavailableError
}

// postgres.js's own codes for a connection it lost or could not make, and the socket errors it
// passes on; SQLSTATE class 08 (connection exception) and 57P01-57P03 (the server shutting down
// or starting up) are what a restart or a failover answers.
const connectionErrorCodes = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
])

/**
 * Whether an error of database work only says the database cannot be reached right now (down,
 * restarting, failing over): a back-off and a retry, never a bug. drizzle wraps a failed query's
 * error (its `cause` is postgres.js's), so the chain is followed.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && (connectionErrorCodes.has(code) || code.startsWith('08'))) return true
    current = current.cause
  }
  return false
}

/** The `code` of a background failure that only says a dependency is away: wait, and retry. */
export type OutageCode = 'redis_unavailable' | 'database_unavailable'

/**
 * The fields of a background failure's log line: a `code` to count and alert on (a dependency's
 * outage, else what the error names itself, else `unexpected`) and the message, without a stack
 * trace. The innermost cause's message: drizzle's own repeats the query and its parameters, which
 * hold addresses and token hashes.
 */
export function failureFields(error: unknown): { code: string; err: string } {
  let innermost = error
  let named: string | undefined
  for (let depth = 0; innermost instanceof Error && depth < 5; depth++) {
    const own = (innermost as { code?: unknown }).code
    named ??= typeof own === 'string' ? own : undefined
    if (!(innermost.cause instanceof Error)) break
    innermost = innermost.cause
  }
  const err = innermost instanceof Error ? innermost.message : String(innermost)
  return { code: outageCode(error) ?? named ?? 'unexpected', err }
}

/** Which dependency's outage an error reports, if that is all it reports. */
export function outageCode(error: unknown): OutageCode | undefined {
  if (isRedisUnavailable(error)) return 'redis_unavailable'
  if (isDatabaseUnavailable(error)) return 'database_unavailable'
  return undefined
}
