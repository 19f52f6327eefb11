import { normalizeEmail } from '@gatehouse/server/email'
import { AppError } from '@gatehouse/server/errors'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase, UserRow } from '../sessions/repo.ts'
import { endSessionByLink, markReauthenticated, revokeSessions } from '../sessions/repo.ts'
import { hashToken, type SessionService, type SignedIn } from '../sessions/service.ts'
import type { SignInMetrics } from '../sign-in-metrics.ts'
import type { InvitationProof } from './invitation-proof.ts'
import type { LinkIssuer } from './links.ts'
import type { LoginThrottle } from './login-throttle.ts'
import { cleanName } from './names.ts'
import { type PasswordHasher, passwordProblem } from './passwords.ts'
import { findUserByEmail, insertPasswordUser } from './repo.ts'

export interface ClientInfo {
  ip: string
  userAgent: string
}

export function createAccountService(deps: {
  db: AuthDatabase
  sessions: SessionService
  events: AuthEvents
  throttle: LoginThrottle
  signIns: SignInMetrics
  links: LinkIssuer
  invitationProof: InvitationProof
  passwords: PasswordHasher
}) {
  return {
    /**
     * A password account. Made from an invitation link (`invitationToken` of a live invitation to
     * this address), its address is proven by that link; otherwise a confirmation link is mailed,
     * and until it is used the account cannot accept invitations or use SSO.
     */
    async signUp(
      input: {
        email: string
        password: string
        firstName?: string | undefined
        lastName?: string | undefined
        invitationToken?: string | undefined
      },
      client: ClientInfo,
      requestId?: string,
    ): Promise<{ user: UserRow; token: string }> {
      const email = normalizeEmail(input.email)
      if (!email) throw authErrors.invalidEmail()
      const problem = passwordProblem(input.password)
      if (problem) throw authErrors.weakPassword(problem)
      // Cheap check first so a taken email costs no hashing; the unique index decides races.
      if (await findUserByEmail(deps.db, email)) throw authErrors.emailTaken()
      // Signing up never waits on the invitation service: if it cannot answer, the account is made
      // unproven and mailed a confirmation link, like any other signup.
      const proven = input.invitationToken
        ? (await deps.invitationProof(input.invitationToken, requestId).catch(() => null)) === email
        : false
      const passwordHash = await deps.passwords.hash(input.password)
      const now = new Date()
      const signedUp = await deps.db.transaction(async (tx) => {
        const user = await insertPasswordUser(tx, {
          email,
          passwordHash,
          firstName: cleanName(input.firstName),
          lastName: cleanName(input.lastName),
          emailConfirmedAt: proven ? now : null,
          emailConfirmedVia: proven ? 'invitation_link' : null,
        })
        if (!user) throw authErrors.emailTaken()
        if (proven) {
          await deps.events.account(tx, 'auth.email.confirmed', { userId: user.id, email, via: 'invitation_link' })
        } else await deps.links.issue(tx, user, 'confirm_email')
        const { token } = await deps.sessions.open(tx, { userId: user.id, method: 'password', ...client })
        return { user, token }
      })
      deps.events.wake()
      await deps.throttle.succeeded(email, client.ip)
      return signedUp
    },

    async logIn(
      input: { email: string; password: string },
      client: ClientInfo,
      previousCookie: string | undefined,
    ): Promise<{ user: UserRow; cookie: string }> {
      const email = normalizeEmail(input.email)
      if (email) {
        await deps.throttle.check(email, client.ip).catch((error: unknown) => {
          if (error instanceof AppError && error.statusCode === 429) deps.signIns.password('throttled')
          throw error
        })
      }
      const user = email ? await findUserByEmail(deps.db, email) : undefined
      // Always verify (against a dummy hash when there is no user) so timing reveals nothing.
      const valid = await deps.passwords.verify(user?.passwordHash ?? null, input.password)
      const attempt = { email: email ?? input.email.trim(), method: 'password' as const, ...client, userId: user?.id }
      if (!user || !valid) {
        if (email) await deps.throttle.failed(email, client.ip)
        const reason = user ? 'wrong_password' : 'unknown_email'
        await deps.events.loginFailed(deps.db, attempt, { reason, code: 'invalid_credentials' })
        deps.events.wake()
        deps.signIns.password(reason)
        throw authErrors.invalidCredentials()
      }
      const { token } = await deps.sessions.open(
        deps.db,
        { userId: user.id, method: 'password', ...client },
        deps.events.loginSucceeded(deps.db, attempt),
      )
      deps.events.wake()
      deps.signIns.password('succeeded')
      await deps.throttle.succeeded(user.email, client.ip)
      // The browser keeps its SSO sign-ins of this person; a new token replaces the old password one.
      const cookie = await deps.sessions.withSignIn(previousCookie, user.id, {
        token,
        values: { method: 'password', workspaceId: null },
      })
      return { user, cookie }
    },

    /** Ends every authentication the browser holds (its password sign-in and each workspace's SSO). */
    async logOut(signedIn: SignedIn): Promise<void> {
      await deps.events.transaction(deps.db, async (tx) => {
        const ended = await revokeSessions(
          tx,
          signedIn.authentications.map((session) => session.id),
          new Date(),
        )
        await deps.events.logout(tx, ended, 'signed_out')
      })
    },

    /**
     * The link in a first sign-in's email: ends that one session (single use; the same refusal
     * for a link never issued, used, or whose session had ended).
     */
    async endSessionByLink(token: string): Promise<void> {
      const ended = await deps.events.transaction(deps.db, async (tx) => {
        const session = await endSessionByLink(tx, hashToken(token), new Date())
        if (session) await deps.events.logout(tx, [session], 'ended_by_link')
        return session
      })
      if (!ended) throw authErrors.invalidEndLink()
    },

    /**
     * The person re-entered their password: the browser's authentications are stamped, which lets
     * an admin change who the workspace's IdP is for a few minutes (see sso/connections.ts).
     */
    async reauthenticate(signedIn: SignedIn, password: string, client: ClientInfo): Promise<void> {
      const { email } = signedIn.user
      // The same guessing limits as signing in: a stolen SSO session must not become a password oracle.
      await deps.throttle.check(email, client.ip)
      if (!(await deps.passwords.verify(signedIn.user.passwordHash, password))) {
        await deps.throttle.failed(email, client.ip)
        throw authErrors.invalidCredentials()
      }
      await deps.throttle.succeeded(email, client.ip)
      await markReauthenticated(
        deps.db,
        signedIn.authentications.map((session) => session.id),
        new Date(),
      )
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
