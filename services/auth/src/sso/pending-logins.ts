import { randomBytes } from 'node:crypto'
import { Uuid } from '@gatehouse/server/http'
import { MAX_RETURN_TO_LENGTH } from '@gatehouse/server/return-to.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SignedInThroughSso } from './login-flow.ts'

/**
 * A started SP-initiated sign-in, kept by the browser that started it in a signed cookie of its own
 * (`saml_pending_<RelayState>`), not on the server: anyone may start sign-ins, so whatever a start
 * kept on the server was storage for anyone (Redis held ~2.6 KB per start for 10 minutes), and one
 * cookie per start lets several sign-ins of one browser (two tabs, a double click, two workspaces)
 * go on side by side, where a single binding cookie made the second start break the first.
 * The cookie is the login CSRF guard too: only the browser that started the sign-in holds it, so
 * a response posted by another site without it is unsolicited (and needs the person's confirmation),
 * and so does the answer to a start another site made (`startedByAnotherOrigin`).
 * A response is still used once: its assertion ID goes to the replay cache.
 */
export interface PendingLogin {
  connectionId: string
  /** The AuthnRequest's ID, which the response's InResponseTo must carry. */
  requestId: string
  returnTo: string
  /** Unix seconds. */
  expiresAt: number
  /** An admin's test sign-in (test-sign-in.ts): the ACS stores its result and opens no session. */
  testId?: string
  /**
   * The start's GET came from another origin's page (`Sec-Fetch-Site: cross-site` or `same-site`),
   * not from our pages or the person: another site can make a browser start a sign-in its IdP
   * answers at once, so the answer waits for the person's confirmation like an unsolicited one.
   */
  startedByAnotherOrigin?: true
}

// An SP-initiated login must finish within this; Entra's own sign-in page times out sooner.
export const pendingLoginSeconds = 10 * 60
// Sign-ins one browser may have going at once; a start past that drops the oldest. Each cookie is
// under 1 KB (returnTo at most 512 characters), so the Cookie header the ACS gets stays under 5 KB.
export const maxPendingLoginsPerBrowser = 5

const cookiePrefix = 'saml_pending_'
// 16 random bytes, base64url: names the start's cookie and travels to the IdP and back.
const relayStatePattern = /^[\w-]{22}$/
const uuidPattern = new RegExp((Uuid as { pattern?: string }).pattern ?? '')
const maxRequestIdLength = 256
const maxEncodedLength = 2048

export const newRelayState = () => randomBytes(16).toString('base64url')

export function encodePendingLogin(pending: PendingLogin): string {
  const fields: unknown[] = [pending.connectionId, pending.requestId, pending.returnTo, pending.expiresAt]
  // Trailing fields only when set: most starts keep the four-field form.
  if (pending.testId || pending.startedByAnotherOrigin) fields.push(pending.testId ?? null)
  if (pending.startedByAnotherOrigin) fields.push(true)
  return Buffer.from(JSON.stringify(fields)).toString('base64url')
}

/** The pending sign-in a cookie value holds, if well-formed and not expired; null otherwise. */
export function decodePendingLogin(encoded: string, now = Date.now()): PendingLogin | null {
  if (encoded.length > maxEncodedLength || !/^[\w-]+$/.test(encoded)) return null
  let fields: unknown
  try {
    fields = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch {
    return null
  }
  if (!Array.isArray(fields) || fields.length < 4 || fields.length > 6) return null
  const [connectionId, requestId, returnTo, expiresAt, testId, startedByAnotherOrigin] = fields
  if (typeof connectionId !== 'string' || !uuidPattern.test(connectionId)) return null
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > maxRequestIdLength) return null
  if (typeof returnTo !== 'string' || !returnTo.startsWith('/') || returnTo.length > MAX_RETURN_TO_LENGTH) return null
  if (typeof expiresAt !== 'number' || expiresAt * 1000 <= now) return null
  if (testId != null && (typeof testId !== 'string' || !relayStatePattern.test(testId))) return null
  if (startedByAnotherOrigin !== undefined && startedByAnotherOrigin !== true) return null
  return {
    connectionId,
    requestId,
    returnTo,
    expiresAt,
    ...(testId ? { testId } : {}),
    ...(startedByAnotherOrigin ? { startedByAnotherOrigin } : {}),
  }
}

/** The SAML routes' own cookies: sent on the IdP's cross-site POST to the ACS. */
function samlCookieAttributes(https: boolean) {
  return {
    httpOnly: true,
    path: '/sso/saml',
    secure: https,
    // SameSite=None needs Secure, so plain-http development falls back to Lax (localhost ports
    // are one site, so Lax still works there).
    sameSite: https ? ('none' as const) : ('lax' as const),
  }
}

/** Reads and writes the pending sign-ins' cookies (SameSite=None; Secure on https: the ACS POST is cross-site). */
export function pendingLoginCookies(options: { https: boolean }) {
  const attributes = samlCookieAttributes(options.https)
  const unsigned = (request: FastifyRequest, name: string) => {
    const signed = request.cookies[name]
    const opened = signed ? request.unsignCookie(signed) : undefined
    return opened?.valid && opened.value !== null ? decodePendingLogin(opened.value) : null
  }

  return {
    /** Keeps a new start, dropping the browser's oldest (and its unreadable) pending sign-ins past the cap. */
    keep(request: FastifyRequest, reply: FastifyReply, relayState: string, pending: PendingLogin) {
      // Only names this sets: another cookie with the prefix (planted, or a name no Set-Cookie
      // header could carry back to clear it) is not ours to read or drop.
      const others = Object.keys(request.cookies)
        .filter((name) => name.startsWith(cookiePrefix) && relayStatePattern.test(name.slice(cookiePrefix.length)))
        .map((name) => ({ name, expiresAt: unsigned(request, name)?.expiresAt ?? 0 }))
        .sort((a, b) => a.expiresAt - b.expiresAt)
      const dropped = others.filter(({ expiresAt }) => expiresAt === 0)
      const live = others.filter(({ expiresAt }) => expiresAt !== 0)
      dropped.push(...live.slice(0, Math.max(0, live.length - (maxPendingLoginsPerBrowser - 1))))
      for (const { name } of dropped) reply.clearCookie(name, attributes)
      reply.setCookie(`${cookiePrefix}${relayState}`, encodePendingLogin(pending), {
        ...attributes,
        maxAge: pendingLoginSeconds,
        signed: true,
      })
    },

    /** The pending sign-in the RelayState names, if this browser holds it; its cookie is cleared either way. */
    take(request: FastifyRequest, reply: FastifyReply, relayState: string | undefined): PendingLogin | null {
      if (relayState === undefined || !relayStatePattern.test(relayState)) return null
      const name = `${cookiePrefix}${relayState}`
      if (request.cookies[name] === undefined) return null
      reply.clearCookie(name, attributes)
      return unsigned(request, name)
    },
  }
}

const handoffCookieName = 'saml_signed_in'
// Only as long as the 303 to the finish step takes.
const handoffSeconds = 60

/**
 * A sign-in the ACS judged on a cross-site post, carried to the same-site finish step in a signed
 * cookie of its own (path /sso/saml, like the pending sign-ins): the ACS could not see the
 * browser's `session` cookie to join it. It holds the new session's token, as `session` would.
 */
export function signedInHandoffCookie(options: { https: boolean }) {
  const attributes = samlCookieAttributes(options.https)
  return {
    keep(reply: FastifyReply, signedIn: SignedInThroughSso) {
      const { token, userId, workspaceId, returnTo } = signedIn
      // The expiry travels signed inside the value: a copy of the cookie kept past its Max-Age is refused.
      const expiresAt = Math.floor(Date.now() / 1000) + handoffSeconds
      const value = Buffer.from(JSON.stringify([token, userId, workspaceId, returnTo, expiresAt])).toString('base64url')
      reply.setCookie(handoffCookieName, value, { ...attributes, maxAge: handoffSeconds, signed: true })
    },

    /** The sign-in the browser carries, if any (its cookie is cleared either way). */
    take(request: FastifyRequest, reply: FastifyReply): SignedInThroughSso | null {
      const signed = request.cookies[handoffCookieName]
      if (signed === undefined) return null
      reply.clearCookie(handoffCookieName, attributes)
      const opened = request.unsignCookie(signed)
      if (!opened.valid || opened.value === null) return null
      let fields: unknown
      try {
        fields = JSON.parse(Buffer.from(opened.value, 'base64url').toString('utf8'))
      } catch {
        return null
      }
      if (!Array.isArray(fields) || fields.length !== 5) return null
      const [token, userId, workspaceId, returnTo, expiresAt] = fields
      if (![token, userId, workspaceId, returnTo].every((field) => typeof field === 'string')) return null
      if (typeof expiresAt !== 'number' || expiresAt * 1000 <= Date.now()) return null
      return { kind: 'signedIn', token, userId, workspaceId, returnTo }
    },
  }
}
