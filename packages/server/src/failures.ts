// What a failure of background work (or of a scrape, or of a best-effort announcement) is, as
// the `code` of the one line that reports it.
import { isDatabaseUnavailable } from '@gatehouse/db'
import { isRedisUnavailable } from './redis.ts'

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
