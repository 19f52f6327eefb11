import { randomBytes } from 'node:crypto'
import { type Authentication, sessionTokenHash } from '@gatehouse/server/internal'
import type { SQLWrapper } from 'drizzle-orm'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  type Executor,
  findLiveSessions,
  insertSession,
  type NewSession,
  type SessionRow,
  touchSessions,
  type UserRow,
} from './repo.ts'

export const sessionCookieName = 'session'

const day = 24 * 60 * 60 * 1000
const idleLifetimeMs = 7 * day
const absoluteLifetimeMs = 30 * day
// Writing lastSeenAt on every request would make each read a write; a minute is precise enough
// for a 7-day idle timeout.
const touchIntervalMs = 60 * 1000
// A password authentication and a few workspaces' SSO: more is refused rather than looked up.
const maximumTokensPerCookie = 8
const tokenPattern = /^[\w-]{43}$/

/**
 * A browser's sign-in: the live authentications its `session` cookie names, all of one person.
 *
 * Why one cookie naming several session rows (`<token>.<token>…`, newest first) rather than a
 * cookie per workspace: every service reads one cookie and forwards it whole to introspection,
 * the gateway needs no cookie-name rules, and signing out ends everything in one step. Each row
 * keeps its own method, so a workspace's SSO adds a row that reaches that workspace only, beside
 * the password row (CONTRACT.md "Sessions and what they reach").
 */
export interface SignedIn {
  user: UserRow
  /** Newest first. */
  authentications: SessionRow[]
}

/** How a session was opened and from where. */
export interface SessionOrigin {
  method: 'password' | 'saml'
  connectionId?: string | null
  workspaceId?: string | null
  ip: string
  userAgent: string
}

export interface OpenSessionInput extends SessionOrigin {
  userId: string
}

/** Sessions last seen before this are idle-expired (live ones are newer). */
export function idleSince(now: Date): Date {
  return new Date(now.getTime() - idleLifetimeMs)
}

/** What a session row stores in place of its token (and an end link in place of its token). */
export const hashToken = sessionTokenHash

/** The well-formed tokens a `session` cookie value names (at most a few). */
export function tokensOf(cookieValue: string | undefined): string[] {
  if (!cookieValue || cookieValue.length > 1024) return []
  return cookieValue
    .split('.')
    .filter((token) => tokenPattern.test(token))
    .slice(0, maximumTokensPerCookie)
}

/** What a session row says about how it was authenticated, as CONTRACT.md shows it. */
export function authenticationView(row: Pick<SessionRow, 'method' | 'workspaceId' | 'connectionId'>): Authentication {
  return row.method === 'saml' && row.workspaceId && row.connectionId
    ? { method: 'saml', workspaceId: row.workspaceId, connectionId: row.connectionId }
    : { method: 'password' }
}

/** Whether two rows fill the same place in a browser: its password sign-in, or one workspace's SSO. */
const samePlace = (a: Pick<SessionRow, 'method' | 'workspaceId'>, b: Pick<SessionRow, 'method' | 'workspaceId'>) =>
  a.method === b.method && (a.method === 'password' || a.workspaceId === b.workspaceId)

export function createSessionService(deps: { db: Executor; secureCookies: boolean; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())

  async function live(tokens: string[]): Promise<{ token: string; session: SessionRow; user: UserRow }[]> {
    if (tokens.length === 0) return []
    const current = now()
    const rows = await findLiveSessions(deps.db, tokens.map(hashToken), idleSince(current), current)
    const stale = rows.filter(({ session }) => current.getTime() - session.lastSeenAt.getTime() > touchIntervalMs)
    if (stale.length > 0) {
      await touchSessions(
        deps.db,
        stale.map(({ session }) => session.id),
        current,
      )
    }
    const byHash = new Map(rows.map((row) => [row.session.tokenHash, row]))
    return tokens.flatMap((token) => {
      const row = byHash.get(hashToken(token))
      return row ? [{ token, ...row }] : []
    })
  }

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
          workspaceId: input.workspaceId ?? null,
          ip: input.ip,
          userAgent: input.userAgent.slice(0, 512),
          createdAt: startedAt,
          lastSeenAt: startedAt,
          expiresAt: new Date(startedAt.getTime() + absoluteLifetimeMs),
        },
      }
    },

    /**
     * A single-use token that ends one session (the link in a first sign-in's email), and the
     * hash the session stores in place of it.
     */
    issueEndLink(): { token: string; hash: string } {
      const token = randomBytes(32).toString('base64url')
      return { token, hash: hashToken(token) }
    },

    /** Opens a session (with `alongside`, see insertSession); the token is returned once, for the cookie. */
    async open(db: Executor, input: OpenSessionInput, alongside?: SQLWrapper): Promise<{ token: string }> {
      const { token, values } = this.issue(input)
      await insertSession(db, { ...values, userId: input.userId }, alongside)
      return { token }
    },

    /** The request's browser sign-in, or null. */
    find(request: FastifyRequest): Promise<SignedIn | null> {
      return this.findByCookie(request.cookies[sessionCookieName])
    },

    /**
     * The live authentications a cookie value names. They belong to the person of the newest
     * live one; a token of anyone else (a cookie planted beside ours) is ignored.
     */
    async findByCookie(cookieValue: string | undefined): Promise<SignedIn | null> {
      const found = await live(tokensOf(cookieValue))
      const newest = found[0]
      if (!newest) return null
      const authentications = found.filter((row) => row.user.id === newest.user.id).map((row) => row.session)
      return { user: newest.user, authentications }
    },

    /**
     * The cookie value after a sign-in of `userId` that opened `opened` (token and row): the new
     * token first, then the browser's other live authentications of the same person, except one in
     * the same place (the previous password sign-in, or this workspace's previous SSO), which the
     * new one replaces. A sign-in as someone else starts the cookie afresh.
     */
    async withSignIn(
      previousCookie: string | undefined,
      userId: string,
      opened: { token: string; values: Pick<SessionRow, 'method' | 'workspaceId'> },
    ): Promise<string> {
      const kept = (await live(tokensOf(previousCookie))).filter(
        ({ token, user, session }) =>
          token !== opened.token && user.id === userId && !samePlace(session, opened.values),
      )
      return [opened.token, ...kept.map(({ token }) => token)].slice(0, maximumTokensPerCookie).join('.')
    },

    setCookie(reply: FastifyReply, value: string): void {
      reply.setCookie(sessionCookieName, value, {
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
