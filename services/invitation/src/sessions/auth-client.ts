import { createHash } from 'node:crypto'
import { BoundedCache } from '@gatehouse/server/bounded-cache'
import { AppError, errors } from '@gatehouse/server/errors'
import { failureFields } from '@gatehouse/server/failures'
import {
  type IntrospectionAnswer,
  type IntrospectionRequest,
  internalJsonPoster,
  type MembershipRemovalRequest,
  membershipRemovalRefusals,
  parseInternalRefusal,
  parseIntrospectionAnswer,
  parseRevokedSessions,
  reauthenticationRequired,
  sessionTokenHashes,
} from '@gatehouse/server/internal'
import { createRedis } from '@gatehouse/server/redis'
import { revokedSessionsChannel } from '@gatehouse/server/redis-keys'
import type { FastifyRequest } from 'fastify'
import { invitationErrors } from '../errors.ts'

export const sessionCookieName = 'session'

/** What auth's `/internal/introspect` tells about a session: the contract in @gatehouse/server/internal. */
export type Introspection = IntrospectionAnswer

/** What acts on the account (accepting an invitation) needs a password sign-in. */
export const passwordReauthentication = () =>
  reauthenticationRequired('Sign in with your password to accept an invitation.', { password: '/login' })

export interface AuthClientOptions {
  authUrl: URL
  internalToken: string
  /**
   * How long an answer about a session and its role is reused. Answers are kept only while the
   * client listens to auth's revocations (`listenForRevocations`), which drop those about a session
   * as soon as it ends; so a signed-out session is refused here at once, and this bounds only what
   * a lost revocation message (Redis failing between auth's publish and this subscriber) or a
   * demoted admin costs. Answers about whether an email is a member are never reused: an invitation
   * must not be sent on a stale one.
   */
  cacheMs?: number
  timeoutMs?: number
}

const maximumCachedAnswers = 10_000

/**
 * Asks the auth service who the `session` cookie belongs to (ARCHITECTURE.md: facts cross
 * service boundaries through a small internal call). Answers are cached half a second, keyed by a
 * hash of the token so the cache holds no usable session, and only while auth's revocations are
 * heard (see `cacheMs`).
 */
export function createAuthClient(options: AuthClientOptions) {
  const cacheMs = options.cacheMs ?? 500
  const timeoutMs = options.timeoutMs ?? 3_000
  const post = internalJsonPoster(new URL('/internal/introspect', options.authUrl), options.internalToken, timeoutMs)
  const postRemoval = internalJsonPoster(
    new URL('/internal/memberships/remove', options.authUrl),
    options.internalToken,
    timeoutMs,
  )
  const cache = new BoundedCache<string, { answer: Introspection; tokenHashes: string[] }>({
    capacity: maximumCachedAnswers,
    ttlMs: cacheMs,
  })
  // Whether revocations are heard now; and a count of revocations (and subscription losses), so
  // an answer fetched while one arrived is not kept: it may describe a session that just ended.
  let listening = false
  let revocations = 0

  function forget(tokenHashes: string[]) {
    revocations += 1
    const ended = new Set(tokenHashes)
    cache.deleteWhere((entry) => entry.tokenHashes.some((hash) => ended.has(hash)))
  }

  function stopCaching() {
    listening = false
    revocations += 1
    cache.clear()
  }

  /** `requestId`: the request this call serves, so auth's log lines carry the same id. */
  async function introspect(
    sessionToken: string,
    about: Omit<IntrospectionRequest, 'sessionToken'> = {},
    requestId?: string,
  ): Promise<Introspection> {
    const key = createHash('sha256')
      .update(JSON.stringify([sessionToken, about.workspaceId ?? null]))
      .digest('base64url')
    const cached = about.email === undefined ? cache.get(key) : undefined
    if (cached) return cached.answer
    const revocationsBefore = revocations

    let response: { status: number; body: string }
    try {
      response = await post({ sessionToken, ...about }, requestId)
    } catch (error) {
      throw invitationErrors.authUnavailable(undefined, { reason: error instanceof Error ? error.name : 'error' })
    }
    if (response.status === 401) throw errors.unauthenticated()
    const answer = response.status === 200 ? parseAnswer(response.body) : undefined
    if (!answer) throw invitationErrors.authUnavailable(undefined, { reason: `auth answered ${response.status}` })
    if (about.email === undefined && listening && revocations === revocationsBefore) {
      cache.set(key, { answer, tokenHashes: sessionTokenHashes(sessionToken) })
    }
    return answer
  }

  return {
    introspect,

    /**
     * Subscribes to auth's revoked sessions (CONTRACT.md: a revoked session is refused everywhere
     * at once). Answers are cached only while subscribed: when the subscription drops, the cache
     * is emptied and every request asks auth until it is back.
     */
    listenForRevocations(
      redisUrl: string,
      log: { warn: (details: object, message: string) => void },
    ): { heard: Promise<void>; close(): Promise<void> } {
      // Resubscribing is done here, on `ready`, so that caching resumes only once it is heard.
      const subscriber = createRedis(redisUrl, {
        role: 'waiting',
        name: 'gatehouse-revocations',
        options: { autoResubscribe: false },
      })
      let reported = false
      subscriber.on('error', (error: Error) => {
        if (!reported)
          log.warn({ ...failureFields(error) }, 'revocations unheard: introspection answers are not cached')
        reported = true
      })
      subscriber.on('close', stopCaching)
      subscriber.on('message', (_channel: string, message: string) => forget(parseRevokedSessions(message)))
      let nowHeard = () => {}
      const heard = new Promise<void>((resolve) => {
        nowHeard = resolve
      })
      const subscribe = async () => {
        await subscriber.subscribe(revokedSessionsChannel)
        reported = false
        listening = true
        nowHeard()
      }
      subscriber.on('ready', () => {
        subscribe().catch((error: unknown) => log.warn({ ...failureFields(error) }, 'revocations: subscribe failed'))
      })
      return {
        /** Resolves once revocations are first heard (answers are cached from then on). */
        heard,
        async close() {
          stopCaching()
          subscriber.disconnect()
        },
      }
    },

    /** The session the request's cookie names; 401 `unauthenticated` without a live one. */
    async require(request: FastifyRequest, about: { workspaceId?: string; email?: string } = {}) {
      // The cookie's whole value (it may name several of the browser's sign-ins); auth refuses
      // longer ones anyway, so refusing here spares it the call.
      const token = request.cookies[sessionCookieName]
      if (!token || token.length > 1024) throw errors.unauthenticated()
      return introspect(token, about, request.id)
    },

    /**
     * Asks auth to remove a membership for the admin whose session the request carries: auth
     * decides with the same rules as its own members route, and its refusal is this answer too.
     */
    async removeMember(
      request: FastifyRequest,
      membership: Pick<MembershipRemovalRequest, 'workspaceId' | 'userId' | 'invitationId'>,
    ): Promise<void> {
      const token = request.cookies[sessionCookieName]
      if (!token || token.length > 1024) throw errors.unauthenticated()
      let response: { status: number; body: string }
      try {
        // The admin's address, for auth's audit trail of the removal.
        const removal: MembershipRemovalRequest = { sessionToken: token, ...membership, ip: request.ip.slice(0, 64) }
        response = await postRemoval(removal, request.id)
      } catch (error) {
        throw invitationErrors.authUnavailable(undefined, { reason: error instanceof Error ? error.name : 'error' })
      }
      if (response.status === 204) return
      throw refusalOf(response)
    },
  }
}

const relayedStatuses: ReadonlySet<number> = new Set(membershipRemovalRefusals)

/**
 * Auth's typed refusal (checked against the shared contract) as this service's answer; anything
 * else (a 5xx, a body that is not one) is 503.
 */
function refusalOf(response: { status: number; body: string }): AppError {
  let refusal: ReturnType<typeof parseInternalRefusal>
  try {
    refusal = response.body.length <= 8192 ? parseInternalRefusal(JSON.parse(response.body)) : undefined
  } catch {}
  if (!relayedStatuses.has(response.status) || !refusal) {
    return invitationErrors.authUnavailable(undefined, { reason: `auth answered ${response.status}` })
  }
  return new AppError(response.status, refusal.error, refusal.message, refusal.signIn ? { signIn: refusal.signIn } : {})
}

export type AuthClient = ReturnType<typeof createAuthClient>

/** Auth's answer, checked against the shared contract; undefined when the body is not one. */
function parseAnswer(body: string): Introspection | undefined {
  try {
    return parseIntrospectionAnswer(JSON.parse(body))
  } catch {
    return undefined
  }
}
