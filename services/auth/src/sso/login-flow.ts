import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { SamlError } from '@gatehouse/saml'
import { errors } from '@gatehouse/server'
import type { Redis } from 'ioredis'
import { updateUserNames } from '../accounts/repo.ts'
import type { ClientInfo } from '../accounts/service.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { SessionService } from '../sessions/service.ts'
import { type createSamlConnectionCache, idpOf } from './connections.ts'
import { redisReplayStore } from './redis-replay-store.ts'
import { type ConnectionRow, findConnection, findSsoEligibleUser } from './repo.ts'

// An SP-initiated login must finish within this; Entra's own sign-in page times out sooner.
const pendingLoginSeconds = 10 * 60

interface PendingLogin {
  connectionId: string
  requestId: string
  returnTo: string
  bindingHash: string
}

/** A same-origin relative path to return to after login; anything else becomes `/` (open-redirect guard). */
export function safeReturnTo(raw: string | undefined, publicUrl: URL): string {
  if (!raw || raw.length > 2048 || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/'
  // Control characters (e.g. a tab inside `/\t/evil.example`) are stripped by URL parsers in
  // browsers, which can turn a relative path into another host.
  if ([...raw].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f)) return '/'
  try {
    const resolved = new URL(raw, publicUrl)
    if (resolved.origin !== publicUrl.origin) return '/'
    return `${resolved.pathname}${resolved.search}${resolved.hash}`
  } catch {
    return '/'
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest()

export function createLoginFlow(deps: {
  db: AuthDatabase
  redis: Redis
  publicUrl: URL
  sessions: SessionService
  events: AuthEvents
  samlConnectionFor: ReturnType<typeof createSamlConnectionCache>
}) {
  async function usableConnection(connectionId: string) {
    const row = await findConnection(deps.db, connectionId)
    if (!row) throw errors.notFound('No such SSO connection.')
    const idp = idpOf(row)
    if (!row.enabled || !idp) throw authErrors.ssoDisabled()
    return { row, saml: deps.samlConnectionFor(row, idp) }
  }

  async function refuse(
    row: ConnectionRow,
    attempt: { email: string; userId?: string },
    client: ClientInfo,
    reason: string,
  ) {
    await deps.events.loginFailed(
      deps.db,
      { ...attempt, method: 'saml', connectionId: row.id, workspaceId: row.workspaceId, ...client },
      reason,
    )
    deps.events.wake()
  }

  return {
    /**
     * SP-initiated start: the AuthnRequest's ID is kept in Redis under an opaque RelayState key,
     * bound to this browser by a random token whose hash is stored beside it (login CSRF guard).
     */
    async start(connectionId: string, returnTo: string | undefined) {
      const { row, saml } = await usableConnection(connectionId)
      const relayState = randomBytes(16).toString('base64url')
      const bindingToken = randomBytes(32).toString('base64url')
      const { redirectUrl, requestId } = saml.createAuthnRequest({ relayState })
      const pending: PendingLogin = {
        connectionId: row.id,
        requestId,
        returnTo: safeReturnTo(returnTo, deps.publicUrl),
        bindingHash: sha256(bindingToken).toString('base64url'),
      }
      await deps.redis.set(`saml:pending:${relayState}`, JSON.stringify(pending), 'EX', pendingLoginSeconds)
      return { redirectUrl, bindingToken }
    },

    /**
     * The ACS: a genuine response (@gatehouse/saml), then CONTRACT.md's rule — a password
     * account that is an SSO-allowed member of the connection's workspace — then a session.
     */
    async complete(input: {
      connectionId: string
      samlResponse: string
      relayState: string | undefined
      bindingToken: string | undefined
      client: ClientInfo
    }): Promise<{ token: string; returnTo: string }> {
      const { row, saml } = await usableConnection(input.connectionId)
      const pending = await takePending(input.relayState)
      // A pending login of this browser makes the response SP-initiated; without one it is
      // unsolicited and the connection's IdP-initiated policy decides.
      const ours =
        pending !== null && pending.connectionId === row.id && bindingMatches(pending.bindingHash, input.bindingToken)
      let identity: Awaited<ReturnType<typeof saml.validateResponse>>
      try {
        identity = await saml.validateResponse({
          samlResponse: input.samlResponse,
          expectedRequestId: ours ? pending.requestId : null,
          replayStore: redisReplayStore(deps.redis, row.id),
        })
      } catch (error) {
        if (!(error instanceof SamlError)) throw error
        await refuse(row, { email: '(unverified)' }, input.client, error.reason)
        if (error.reason === 'replayed') throw authErrors.samlReplayed()
        throw authErrors.samlInvalid(error.message, { reason: error.reason })
      }

      const user = await findSsoEligibleUser(deps.db, identity.email, row.workspaceId)
      if (!user) {
        await refuse(row, { email: identity.email }, input.client, 'not_a_member')
        throw authErrors.ssoNotAllowed(
          `${identity.email} cannot use SSO for this workspace yet. Accept your invitation and sign up with a password first, then sign in with SSO.`,
        )
      }

      // Names follow the IdP's claims; written only when they changed (rarely), so concurrent
      // logins of one person do not queue on the row lock. They need not commit with the session.
      await updateUserNames(
        deps.db,
        user.id,
        {
          firstName: identity.firstName !== user.firstName ? identity.firstName : undefined,
          lastName: identity.lastName !== user.lastName ? identity.lastName : undefined,
        },
        new Date(),
      )
      const client = { ...input.client, connectionId: row.id }
      const { token } = await deps.sessions.open(
        deps.db,
        { userId: user.id, method: 'saml', ...client },
        deps.events.loginSucceeded(deps.db, {
          email: identity.email,
          userId: user.id,
          method: 'saml',
          workspaceId: row.workspaceId,
          ...client,
        }),
      )
      deps.events.wake()
      return { token, returnTo: ours ? pending.returnTo : '/' }
    },
  }

  async function takePending(relayState: string | undefined): Promise<PendingLogin | null> {
    if (!relayState || !/^[\w-]{16,64}$/.test(relayState)) return null
    // Single use: the first response to arrive consumes the pending login.
    const stored = await deps.redis.getdel(`saml:pending:${relayState}`)
    return stored ? (JSON.parse(stored) as PendingLogin) : null
  }
}

function bindingMatches(expectedHash: string, token: string | undefined): boolean {
  if (!token || token.length > 128) return false
  const expected = Buffer.from(expectedHash, 'base64url')
  const actual = sha256(token)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

export type LoginFlow = ReturnType<typeof createLoginFlow>
