import { randomBytes, randomUUID } from 'node:crypto'
import { type ReplayStore, SamlError, type SamlErrorReason, type SamlIdentity } from '@gatehouse/saml'
import { isEmailAddress, normalizeEmail } from '@gatehouse/server/email'
import { AppError, errors } from '@gatehouse/server/errors'
import { enforceLimits, type Limit } from '@gatehouse/server/http'
import { samlAnsweredStartKey, samlConfirmation } from '@gatehouse/server/redis-keys'
import { sameOriginPath } from '@gatehouse/server/return-to.js'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { cleanName } from '../accounts/names.ts'
import { findUserByEmail } from '../accounts/repo.ts'
import type { ClientInfo } from '../accounts/service.ts'
import type { SsoSignInLimits } from '../config.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents, LoginRefusal } from '../events.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { SessionService } from '../sessions/service.ts'
import type { SignInMetrics } from '../sign-in-metrics.ts'
import { admitOnce } from './acs-admission.ts'
import type { ConnectionCache, UsableConnection } from './connections.ts'
import { refusalMessage } from './idp-kinds.ts'
import { newRelayState, type PendingLogin, pendingLoginSeconds } from './pending-logins.ts'
import { deferredReplayStore, type SingleUse } from './redis-replay-store.ts'
import type { RefusalLimit } from './refusal-limit.ts'
import { type ConnectionRow, findSsoEligibility, openSsoSession } from './repo.ts'
import type { TestSignInMark, TestSignIns } from './test-sign-in.ts'

// How long an unsolicited sign-in waits for the person's confirmation.

/** A judged unsolicited response, waiting for the person to confirm (`confirm`). */
interface PendingConfirmation {
  connectionId: string
  connectionVersion: number
  email: string
  firstName?: string | undefined
  lastName?: string | undefined
  initiation: 'sp' | 'idp'
  certificateFingerprint: string
  workspaceName: string
}

export interface SignedInThroughSso {
  kind: 'signedIn'
  token: string
  userId: string
  workspaceId: string
  returnTo: string
}

export interface ConfirmationNeeded {
  kind: 'confirm'
  confirmation: string
  email: string
  workspaceName: string
}

/** A same-origin relative path to return to after login; anything else becomes `/` (open-redirect guard). */
export function safeReturnTo(raw: string | undefined, publicUrl: URL): string {
  return sameOriginPath(raw, publicUrl.origin) ?? '/'
}

// Refusals an admin's change to the connection (certificates, IdP identifier, IdP-initiated
// sign-in, SHA-1, where the email comes from) could turn into acceptance; for any other reason a
// fresh copy would refuse alike.
const settingsDependentReasons = new Set<SamlErrorReason>([
  'signature_invalid',
  'certificate_expired',
  'weak_algorithm',
  'issuer_mismatch',
  'unsolicited',
  'nameid_not_email',
  'email_attribute_missing',
  'email_attribute_invalid',
])

/** For judging a response again whose assertion this request has already recorded as used. */
const recordedByThisRequest: ReplayStore = { remember: async () => true }

export function createLoginFlow(deps: {
  db: AuthDatabase
  redis: Redis
  publicUrl: URL
  sessions: SessionService
  events: AuthEvents
  connections: ConnectionCache
  refusals: RefusalLimit
  signIns: SignInMetrics
  testSignIns: TestSignIns
  signInLimits: SsoSignInLimits
  log: FastifyBaseLogger
}) {
  /**
   * Each SSO sign-in opens a session row, and the connection's IdP can mint genuine responses at
   * will: successful sign-ins per (account, connection) are limited, 429 `rate_limited` with
   * Retry-After past it. A person starts one per tab or when a session ends; 10 a minute covers a
   * burst of tabs and double clicks, 60 an hour a whole day of reopened sessions (sessions last
   * hours), so only a script reaches them, and each account holds at most 60 new sessions per
   * connection an hour. Counted once per judged response, before its session opens.
   */
  function signInLimits(connectionId: string, email: string): Limit[] {
    const subject = `${connectionId}:${email}`
    const message = (wait: string) => `Too many sign-ins to this workspace in a row. Wait ${wait} and sign in again.`
    return [
      { name: 'sso-sign-in:minute', limit: deps.signInLimits.perMinute, windowSeconds: 60, subject, message },
      { name: 'sso-sign-in:hour', limit: deps.signInLimits.perHour, windowSeconds: 3600, subject, message },
    ]
  }

  async function limitSignIns(connectionId: string, email: string) {
    try {
      await enforceLimits(deps.redis, signInLimits(connectionId, email), deps.log)
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 429) deps.signIns.sso('rate_limited')
      throw error
    }
  }

  /**
   * The start's AuthnRequest, answered: used once. Its cookie is cleared by the answer, but a copy
   * (captured, or a browser that ignored the clearing) would otherwise carry another genuine
   * response with the same InResponseTo for the rest of its 10 minutes.
   */
  function answeredStart(connectionId: string, pending: PendingLogin): SingleUse {
    return {
      key: samlAnsweredStartKey(connectionId, pending.requestId),
      untilMs: Math.max(pending.expiresAt * 1000, Date.now() + 1000),
    }
  }

  async function refuse(
    row: ConnectionRow,
    attempt: { email: string; userId?: string; initiation: 'sp' | 'idp' },
    client: ClientInfo,
    refusal: LoginRefusal,
  ) {
    // Independent writes (Postgres and Redis): side by side, so a refusal waits for one round trip.
    await Promise.all([
      deps.events.loginFailed(
        deps.db,
        { ...attempt, method: 'saml', connectionId: row.id, workspaceId: row.workspaceId, ...client },
        refusal,
      ),
      deps.refusals.count(client.ip),
    ])
    deps.events.wake()
    deps.signIns.sso('refused', refusal.reason)
  }

  return {
    /**
     * SP-initiated start: the AuthnRequest and what the browser keeps of it (pending-logins.ts),
     * under a fresh RelayState. Nothing is stored on the server.
     */
    async start(
      connectionId: string,
      options: { returnTo?: string; loginHint?: string; test?: TestSignInMark; startedByAnotherOrigin?: boolean },
    ) {
      // Read afresh: a cached copy could send the browser to an IdP the admin has just replaced.
      const { row, saml } = await deps.connections.usable(connectionId, { fresh: true })
      const relayState = newRelayState()
      const testId = options.test ? await deps.testSignIns.begin(options.test) : undefined
      // A hint that is not an address is dropped: it only pre-fills the IdP's sign-in page.
      const loginHint = options.loginHint === undefined ? null : normalizeEmail(options.loginHint)
      const { redirectUrl, requestId } = saml.createAuthnRequest({
        relayState,
        ...(loginHint !== null && isEmailAddress(loginHint) ? { loginHint } : {}),
      })
      const pending: PendingLogin = {
        connectionId: row.id,
        requestId,
        // Without a page to return to, the person lands in the workspace whose IdP vouched for them.
        returnTo:
          options.returnTo === undefined
            ? `/workspaces/${row.workspaceId}`
            : safeReturnTo(options.returnTo, deps.publicUrl),
        expiresAt: Math.floor(Date.now() / 1000) + pendingLoginSeconds,
        ...(testId ? { testId } : {}),
        ...(options.startedByAnotherOrigin ? { startedByAnotherOrigin: true as const } : {}),
      }
      return { redirectUrl, relayState, pending }
    },

    /**
     * The ACS: a genuine response (@gatehouse/saml), then CONTRACT.md's rule — a password
     * account that is an SSO-allowed member of the connection's workspace — then a session. A
     * response this browser asked for (SP-initiated) signs in at once; an unsolicited one, or one
     * answering a start another site made, never does by itself (login CSRF: another site can make
     * a browser post one, or start a sign-in its IdP answers at once): it waits for the person to
     * confirm who they continue as and where (`confirm`).
     */
    async complete(input: {
      connectionId: string
      samlResponse: string
      /** The sign-in this browser started that the RelayState names (pending-logins.ts), if any. */
      pending: PendingLogin | null
      client: ClientInfo
    }): Promise<SignedInThroughSso | ConfirmationNeeded | Awaited<ReturnType<TestSignIns['judge']>>> {
      if (deps.refusals.exceeded(input.client.ip)) {
        deps.signIns.sso('rate_limited')
        throw errors.rateLimited('Too many refused sign-ins came from your network. Wait a minute and try again.')
      }
      const cached = await deps.connections.usable(input.connectionId)
      const { pending } = input
      // A pending login of this browser makes the response SP-initiated; without one it is
      // unsolicited and the connection's IdP-initiated policy decides.
      const ours = pending !== null && pending.connectionId === cached.row.id
      if (ours && pending.testId) {
        return deps.testSignIns.judge(cached.row.id, input.samlResponse, pending.requestId, pending.testId)
      }
      const initiation = ours ? ('sp' as const) : ('idp' as const)
      const confirmFirst = !ours || pending.startedByAnotherOrigin === true
      const attempt = { ...input, expectedRequestId: ours ? pending.requestId : null, initiation }
      // The accepted assertion is recorded as used below, with the start and the limits.
      const replay = deferredReplayStore(cached.row.id)
      let { connection, identity } = await verify(cached, attempt, replay.store, { cached: true })
      const notAllowed = async (row: ConnectionRow) => {
        // An account holding the address that nobody has proven yet may be someone else's: the
        // IdP's word for the address does not make it theirs (the address's owner may reclaim it).
        const holder = await findUserByEmail(deps.db, identity.email)
        if (holder && holder.emailConfirmedAt === null) {
          const message = `${identity.email} is not confirmed yet. Open the confirmation link we emailed to this address (or your invitation link), then sign in with SSO.`
          await refuse(row, { email: identity.email, initiation }, input.client, {
            reason: 'email_unconfirmed',
            code: 'email_unconfirmed',
            message,
          })
          return authErrors.emailUnconfirmed(message)
        }
        const message = `${identity.email} cannot use SSO for this workspace yet. Accept your invitation and sign up with a password first, then sign in with SSO.`
        await refuse(row, { email: identity.email, initiation }, input.client, {
          reason: 'not_a_member',
          code: 'sso_not_allowed',
          message,
        })
        return authErrors.ssoNotAllowed(message)
      }

      // The assertion used once, the start answered once, and (only for a response that may sign
      // in: one for confirmation counts when it is kept, each kept in Redis, and its IdP can post
      // them as fast as this answers) the sign-in limits, in one round trip.
      const assertionUse = replay.noted()
      const admission = await admitOnce(
        deps.redis,
        ours ? [assertionUse, answeredStart(cached.row.id, pending)] : [assertionUse],
        confirmFirst ? [] : signInLimits(cached.row.id, identity.email),
      )
      if (admission && 'limited' in admission) {
        deps.signIns.sso('rate_limited')
        throw admission.limited
      }
      if (admission?.used === assertionUse) {
        const replayed = new SamlError('replayed', 'This SAML response was already used. Sign in again from the start.')
        throw await refuseResponse(connection.row, replayed, attempt)
      }
      if (admission) {
        const refused = authErrors.samlReplayed('This sign-in was already answered. Start the sign-in again.')
        await refuse(cached.row, { email: identity.email, initiation }, input.client, {
          reason: 'start_already_answered',
          code: refused.code,
          message: refused.message,
        })
        throw refused
      }
      for (let tries = 1; ; tries++) {
        const { row } = connection
        const login = {
          connectionId: row.id,
          connectionVersion: row.version,
          email: identity.email,
          firstName: cleanName(identity.firstName) ?? undefined,
          lastName: cleanName(identity.lastName) ?? undefined,
          initiation,
          certificateFingerprint: identity.signedBy,
        }
        if (!confirmFirst) {
          const opened = await open(row, login, input.client)
          if (opened.outcome === 'opened') return { ...opened.signedIn, returnTo: pending.returnTo }
          if (opened.outcome === 'not_allowed') throw await notAllowed(row)
        } else {
          const eligibility = await findSsoEligibility(deps.db, login)
          if (eligibility.outcome === 'eligible') {
            await limitSignIns(row.id, login.email)
            const confirmation = randomBytes(32).toString('base64url')
            const waiting: PendingConfirmation = { ...login, workspaceName: eligibility.workspaceName }
            await deps.redis.set(
              samlConfirmation.key(confirmation),
              JSON.stringify(waiting),
              'EX',
              samlConfirmation.seconds,
            )
            return { kind: 'confirm', confirmation, email: login.email, workspaceName: eligibility.workspaceName }
          }
          if (eligibility.outcome === 'not_allowed') throw await notAllowed(row)
        }
        if (tries === 3) {
          deps.signIns.sso('unavailable', 'connection_changing')
          throw errors.unavailable('The SSO settings are being changed. Try again in a moment.')
        }
        // An admin changed the connection since this replica cached it: the same response is
        // judged again by the connection as it is now. Its assertion is already recorded as
        // used, by this very request.
        const current = await deps.connections.usable(input.connectionId, { fresh: true })
        ;({ connection, identity } = await verify(current, attempt, recordedByThisRequest, { cached: false }))
      }
    },

    /**
     * The person confirmed an unsolicited sign-in (or one another site started) on our own page
     * (its POST passed the Origin guard): the session opens if the connection is still the one
     * that judged the response.
     */
    async confirm(connectionId: string, confirmation: string, client: ClientInfo): Promise<SignedInThroughSso> {
      const stored = /^[\w-]{43}$/.test(confirmation)
        ? await deps.redis.getdel(samlConfirmation.key(confirmation))
        : null
      const waiting = stored ? (JSON.parse(stored) as PendingConfirmation) : null
      if (!waiting || waiting.connectionId !== connectionId.toLowerCase()) {
        throw authErrors.samlInvalid('This sign-in has expired or was already used. Sign in again.', {
          reason: 'confirmation_expired',
        })
      }
      // Counted when it was kept (complete), once per sign-in: a confirmation is used once.
      const { row } = await deps.connections.usable(connectionId, { fresh: true })
      const opened = await open(row, waiting, client)
      if (opened.outcome === 'opened') return { ...opened.signedIn, returnTo: `/workspaces/${row.workspaceId}` }
      if (opened.outcome === 'not_allowed') throw authErrors.ssoNotAllowed()
      throw authErrors.samlInvalid('The SSO settings changed since. Sign in again.', { reason: 'connection_changed' })
    },
  }

  /** Opens the SSO session for a judged response, if the rule holds at the connection's version. */
  async function open(
    row: ConnectionRow,
    login: {
      connectionId: string
      connectionVersion: number
      email: string
      firstName?: string | undefined
      lastName?: string | undefined
      initiation: 'sp' | 'idp'
      certificateFingerprint: string
    },
    client: ClientInfo,
  ) {
    const origin = { ...client, connectionId: row.id }
    const { token, values } = deps.sessions.issue({ method: 'saml', workspaceId: row.workspaceId, ...origin })
    const { initiation, certificateFingerprint, ...judged } = login
    const session = { ...values, id: randomUUID(), signingCertificateFingerprint: certificateFingerprint || null }
    const endLink = deps.sessions.issueEndLink()
    const outcome = await openSsoSession(deps.db, {
      ...judged,
      firstName: login.firstName,
      lastName: login.lastName,
      session,
      firstSignIn: {
        endLinkHash: endLink.hash,
        event: deps.events.firstSignInEvent(
          {
            sessionId: session.id,
            email: login.email,
            workspaceId: row.workspaceId,
            connectionId: row.id,
            idpEntityId: row.idpEntityId ?? '',
            ...client,
          },
          endLink.token,
        ),
      },
      event: deps.events.loginSucceededEvent({
        email: login.email,
        method: 'saml',
        workspaceId: row.workspaceId,
        initiation,
        certificateFingerprint,
        ...origin,
      }),
    })
    if (outcome.outcome !== 'opened') return outcome
    deps.events.wake()
    deps.signIns.sso('succeeded')
    return {
      outcome: 'opened' as const,
      signedIn: { kind: 'signedIn' as const, token, userId: outcome.userId, workspaceId: row.workspaceId },
    }
  }

  /**
   * The response judged by `connection`; a refusal is recorded as a failed login and thrown. A
   * refusal by a cached copy for a reason the settings decide is first checked against the row as
   * it is now: an admin's change since (IdP-initiated sign-in allowed, a new certificate) may accept
   * the response.
   */
  async function verify(
    connection: UsableConnection,
    attempt: {
      samlResponse: string
      expectedRequestId: string | null
      client: ClientInfo
      initiation: 'sp' | 'idp'
    },
    replayStore: ReplayStore,
    { cached }: { cached: boolean },
  ): Promise<{ connection: UsableConnection; identity: SamlIdentity }> {
    const { samlResponse, expectedRequestId } = attempt
    try {
      return {
        connection,
        identity: await connection.saml.validateResponse({ samlResponse, expectedRequestId, replayStore }),
      }
    } catch (error) {
      if (!(error instanceof SamlError)) throw error
      if (cached && settingsDependentReasons.has(error.reason)) {
        const current = await deps.connections.usable(connection.row.id, { fresh: true })
        if (current.row.version !== connection.row.version) {
          return verify(current, attempt, replayStore, { cached: false })
        }
      }
      throw await refuseResponse(connection.row, error, attempt)
    }
  }

  /** Records the refusal of a response the SAML checks refused; the error to answer with. */
  async function refuseResponse(
    row: ConnectionRow,
    error: SamlError,
    attempt: { client: ClientInfo; initiation: 'sp' | 'idp' },
  ): Promise<AppError> {
    const refused =
      error.reason === 'replayed'
        ? authErrors.samlReplayed()
        : authErrors.samlInvalid(refusalMessage(error, row.idpKind), { reason: error.reason })
    await refuse(row, { email: '(unverified)', initiation: attempt.initiation }, attempt.client, {
      reason: error.reason,
      code: refused.code,
      message: refused.message,
    })
    return refused
  }
}

export type LoginFlow = ReturnType<typeof createLoginFlow>
