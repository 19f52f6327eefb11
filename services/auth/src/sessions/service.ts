import { createHash, randomBytes } from 'node:crypto'
import { errors } from '@gatehouse/server'
import type { SQLWrapper } from 'drizzle-orm'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  type Executor,
  findLiveSession,
  insertSession,
  type NewSession,
  revokeSession,
  type SessionRow,
  touchSession,
  type UserRow,
} from './repo.ts'

export const sessionCookieName = 'session'

const day = 24 * 60 * 60 * 1000
const idleLifetimeMs = 7 * day
const absoluteLifetimeMs = 30 * day
// Writing lastSeenAt on every request would make each read a write; a minute is precise enough
// for a 7-day idle timeout.
const touchIntervalMs = 60 * 1000

export interface SignedIn {
  session: SessionRow
  user: UserRow
}

/** How a session was opened and from where. */
export interface SessionOrigin {
  method: 'password' | 'saml'
  connectionId?: string | null
  ip: string
  userAgent: string
}

export interface OpenSessionInput extends SessionOrigin {
  userId: string
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function createSessionService(deps: { db: Executor; secureCookies: boolean; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())

  return {
    /**
     * A new session's token (returned once, for the cookie) and its row, which stores only the
     * token's hash; the user is the caller's to add.
     */
    issue(input: SessionOrigin): { token: string; values: Omit<NewSession, 'userId'> } {
      const token = randomBytes(32).toString('base64url')
      const startedAt = now()
      return {
        token,
        values: {
          tokenHash: hashToken(token),
          method: input.method,
          connectionId: input.connectionId ?? null,
          ip: input.ip,
          userAgent: input.userAgent.slice(0, 512),
          createdAt: startedAt,
          lastSeenAt: startedAt,
          expiresAt: new Date(startedAt.getTime() + absoluteLifetimeMs),
        },
      }
    },

    /** Opens a session (with `alongside`, see insertSession); the token is returned once, for the cookie. */
    async open(db: Executor, input: OpenSessionInput, alongside?: SQLWrapper): Promise<{ token: string }> {
      const { token, values } = this.issue(input)
      await insertSession(db, { ...values, userId: input.userId }, alongside)
      return { token }
    },

    /** The request's live session, or null. */
    find(request: FastifyRequest): Promise<SignedIn | null> {
      return this.findByToken(request.cookies[sessionCookieName])
    },

    /** The live session a cookie token names, or null. */
    async findByToken(token: string | undefined): Promise<SignedIn | null> {
      if (!token || token.length > 128) return null
      const current = now()
      const found = await findLiveSession(
        deps.db,
        hashToken(token),
        new Date(current.getTime() - idleLifetimeMs),
        current,
      )
      if (!found) return null
      if (current.getTime() - found.session.lastSeenAt.getTime() > touchIntervalMs) {
        await touchSession(deps.db, found.session.id, current)
      }
      return found
    },

    /** The request's live session; 401 `unauthenticated` without one. */
    async require(request: FastifyRequest): Promise<SignedIn> {
      const found = await this.find(request)
      if (!found) throw errors.unauthenticated()
      return found
    },

    async revoke(tx: Executor, sessionId: string): Promise<void> {
      await revokeSession(tx, sessionId, now())
    },

    setCookie(reply: FastifyReply, token: string): void {
      reply.setCookie(sessionCookieName, token, {
        httpOnly: true,
        path: '/',
        sameSite: 'lax',
        secure: deps.secureCookies,
        maxAge: absoluteLifetimeMs / 1000,
      })
    },

    clearCookie(reply: FastifyReply): void {
      reply.clearCookie(sessionCookieName, { httpOnly: true, path: '/', sameSite: 'lax', secure: deps.secureCookies })
    },
  }
}

export type SessionService = ReturnType<typeof createSessionService>
