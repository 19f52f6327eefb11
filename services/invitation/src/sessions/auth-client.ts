import { createHash } from 'node:crypto'
import { errors } from '@gatehouse/server'
import type { FastifyRequest } from 'fastify'
import { invitationErrors } from '../errors.ts'

export const sessionCookieName = 'session'

/** What auth's `/internal/introspect` tells about a session (services/auth/src/internal/routes.ts). */
export interface Introspection {
  user: { id: string; email: string; createdVia: string }
  workspace: {
    id: string
    name: string
    role: 'owner' | 'admin' | 'member' | null
    emailIsMember: boolean | null
  } | null
}

export interface AuthClientOptions {
  authUrl: URL
  internalToken: string
  /**
   * How long an answer about a session and its role is reused: a revoked session or a demoted
   * admin keeps its power here for at most this long. Answers about whether an email is a member
   * are never reused: an invitation must not be sent on a stale one.
   */
  cacheMs?: number
  timeoutMs?: number
}

const maximumCachedAnswers = 10_000

/**
 * Asks the auth service who the `session` cookie belongs to (ARCHITECTURE.md: facts cross
 * service boundaries through a small internal call). Answers are cached a few seconds, keyed by a
 * hash of the token so the cache holds no usable session.
 */
export function createAuthClient(options: AuthClientOptions) {
  const cacheMs = options.cacheMs ?? 3_000
  const timeoutMs = options.timeoutMs ?? 3_000
  const endpoint = new URL('/internal/introspect', options.authUrl)
  const cache = new Map<string, { until: number; answer: Introspection }>()

  async function introspect(
    sessionToken: string,
    about: { workspaceId?: string; email?: string } = {},
  ): Promise<Introspection> {
    const key = createHash('sha256')
      .update(JSON.stringify([sessionToken, about.workspaceId ?? null]))
      .digest('base64url')
    const cached = about.email === undefined ? cache.get(key) : undefined
    if (cached && cached.until > Date.now()) return cached.answer

    let response: Response
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.internalToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessionToken, ...about }),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      throw invitationErrors.authUnavailable(undefined, { reason: error instanceof Error ? error.name : 'error' })
    }
    if (response.status === 401) {
      await response.body?.cancel()
      throw errors.unauthenticated()
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw invitationErrors.authUnavailable(undefined, { reason: `auth answered ${response.status}` })
    }
    const answer = (await response.json()) as Introspection
    if (cache.size >= maximumCachedAnswers) {
      const now = Date.now()
      for (const [cachedKey, entry] of cache) if (entry.until <= now) cache.delete(cachedKey)
      if (cache.size >= maximumCachedAnswers) cache.clear()
    }
    if (about.email === undefined) cache.set(key, { until: Date.now() + cacheMs, answer })
    return answer
  }

  return {
    introspect,

    /** The session the request's cookie names; 401 `unauthenticated` without a live one. */
    async require(request: FastifyRequest, about: { workspaceId?: string; email?: string } = {}) {
      const token = request.cookies[sessionCookieName]
      // Auth refuses longer tokens anyway; refusing here spares it the call.
      if (!token || token.length > 128) throw errors.unauthenticated()
      return introspect(token, about)
    },
  }
}

export type AuthClient = ReturnType<typeof createAuthClient>
