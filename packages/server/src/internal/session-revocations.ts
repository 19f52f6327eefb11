// Ending a session takes effect everywhere at once: auth publishes the token hashes of the
// sessions it ended on a Redis channel right after the commit (and before answering), and every
// service that caches introspection answers drops the answers about them. Declared once here for
// both sides (the channel's name with the Redis keys, ../redis/keys.ts). Pub/sub delivers to whoever
// is subscribed at the time and keeps nothing, so a subscriber caches only while its subscription
// is live (see the invitation service's auth-client).
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { failureFields } from '../failures.ts'
import { revokedSessionsChannel } from '../redis/keys.ts'

const tokenHashPattern = /^[0-9a-f]{64}$/
const hashesPerMessage = 500
const maximumMessageLength = hashesPerMessage * 67 + 2
const publishTimeoutMs = 500

/** The hash auth stores for a session token (the `session` cookie holds tokens joined by `.`). */
export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** The hashes of the tokens a `session` cookie value names, as auth stores them. */
export function sessionTokenHashes(cookieValue: string): string[] {
  return cookieValue
    .split('.', 8)
    .filter((token) => token.length > 0)
    .map(sessionTokenHash)
}

/**
 * Publishes the token hashes of sessions that have just ended (in messages of at most 500). Never
 * throws: a Redis outage must not fail a sign-out that has committed; it is logged, and the
 * subscribers' caches, which stop caching when their subscription drops, bound what it costs.
 */
export async function publishRevokedSessions(
  redis: Redis,
  tokenHashes: string[],
  log: { warn: (details: object, message: string) => void },
): Promise<void> {
  for (let start = 0; start < tokenHashes.length; start += hashesPerMessage) {
    const message = JSON.stringify(tokenHashes.slice(start, start + hashesPerMessage))
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        redis.publish(revokedSessionsChannel, message),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${publishTimeoutMs} ms`)), publishTimeoutMs)
        }),
      ])
    } catch (error) {
      log.warn({ ...failureFields(error), sessions: tokenHashes.length }, 'revoked sessions not announced on Redis')
      return
    } finally {
      clearTimeout(timer)
    }
  }
}

/** The token hashes a channel message names; [] for anything else (bounded before parsing). */
export function parseRevokedSessions(message: string): string[] {
  if (message.length > maximumMessageLength) return []
  try {
    const parsed: unknown = JSON.parse(message)
    return Array.isArray(parsed)
      ? parsed.filter((hash): hash is string => typeof hash === 'string' && tokenHashPattern.test(hash))
      : []
  } catch {
    return []
  }
}
