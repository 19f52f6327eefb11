// Proof of address, password reset and change of password (issue 13, points 1 and 2).
//
// - A reset request writes one outbox row, `auth.password.reset_requested`, whether or not an account
//   holds the address; auth's workers issue the link off the request path (reset-requests.ts). So
//   the answer, and the work behind it, are the same either way: timing says nothing.
// - A mailed link (reset or confirmation) or a live invitation link proves the address. Setting a
//   password through one ends every session of the account; when the account was unproven, that
//   is its address's owner reclaiming it from whoever made it, and every membership it holds ends
//   (the workspaces it alone owns are deleted: memberships/service.ts, endReclaimedAccount).
// - Confirming with the account's password (or its password session) proves the address and keeps
//   the account as it is.
import { normalizeEmail } from '@gatehouse/server/email'
import type { EmailProof } from '../db/schema.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { MembershipService } from '../memberships/service.ts'
import { accountAuthentication } from '../sessions/reach.ts'
import {
  type AuthDatabase,
  type Executor,
  revokeUserSessions,
  type SessionRow,
  type UserRow,
} from '../sessions/repo.ts'
import { idleSince, type SessionService, type SignedIn } from '../sessions/service.ts'
import type { InvitationProof } from './invitation-proof.ts'
import type { LinkIssuer } from './links.ts'
import { type AccountLinkRow, countLinksSince, retireLinks, useLink } from './links-repo.ts'
import type { LoginThrottle } from './login-throttle.ts'
import { type PasswordHasher, passwordProblem } from './passwords.ts'
import { findUserByEmail, findUserById, markEmailConfirmed, setPasswordHash } from './repo.ts'
import type { ClientInfo } from './service.ts'

/** Reset links one address is sent per hour at most, whatever the number of networks asking. */
export const resetLinksPerHour = 5

export function createRecoveryService(deps: {
  db: AuthDatabase
  sessions: SessionService
  events: AuthEvents
  links: LinkIssuer
  throttle: LoginThrottle
  invitationProof: InvitationProof
  memberships: Pick<MembershipService, 'endReclaimedAccount'>
  passwords: PasswordHasher
  now?: () => Date
}) {
  const now = deps.now ?? (() => new Date())
  const { db, events, links } = deps

  const newPasswordProblem = (password: string, field: string) => {
    const problem = passwordProblem(password)
    if (problem) throw authErrors.weakPassword(problem, { fields: { [field]: problem } })
  }

  /** Checks the account's current password under the sign-in guessing limits. */
  async function checkPassword(user: UserRow, password: string, client: ClientInfo, field: string) {
    await deps.throttle.check(user.email, client.ip)
    if (!(await deps.passwords.verify(user.passwordHash, password))) {
      await deps.throttle.failed(user.email, client.ip)
      const message = 'The password is not right.'
      throw authErrors.invalidCredentials(message, { fields: { [field]: message } })
    }
    await deps.throttle.succeeded(user.email, client.ip)
  }

  /** True when this proved the address (it was unproven until now). */
  async function proveAddress(tx: Executor, user: UserRow, via: LinkProof, at: Date): Promise<boolean> {
    if (!(await markEmailConfirmed(tx, user.id, via, at))) return false
    await events.account(tx, 'auth.email.confirmed', { userId: user.id, email: user.email, via })
    return true
  }

  /**
   * A new password set through a mailed or invitation link (`link` is used once here): every
   * session of the account ends, every other link is retired, the address counts as proven, and
   * this browser is signed in afresh.
   */
  async function setPasswordThroughLink(
    user: UserRow,
    link: AccountLinkRow | null,
    password: string,
    via: LinkProof,
    client: ClientInfo,
  ): Promise<{ user: UserRow; cookie: string }> {
    newPasswordProblem(password, 'password')
    const passwordHash = await deps.passwords.hash(password)
    const at = now()
    // events.transaction: the ended sessions are announced after the commit, before the answer.
    const { token } = await events.transaction(db, async (tx) => {
      if (link && !(await useLink(tx, link.id, at))) throw authErrors.invalidLink()
      await setPasswordHash(tx, user.id, passwordHash, at)
      // Whoever made an account without proving its address may not be its address's owner.
      const reclaimed = await proveAddress(tx, user, via, at)
      // An invitation link is not used up here (it stays the invitation): what makes it reclaim
      // once is the address turning proven, a conditional update of the account's row. A second
      // request with the link waits for that row and, finding it proven, changes nothing.
      if (!link && !reclaimed) throw authErrors.confirmedEmailTaken()
      await retireLinks(tx, user.id, at)
      const ended = await revokeUserSessions(tx, user.id, { except: [] }, idleSince(at), at)
      await events.logout(tx, ended, 'password_reset')
      if (reclaimed) await deps.memberships.endReclaimedAccount(tx, user.id, client.ip)
      await events.account(tx, 'auth.password.reset', {
        userId: user.id,
        email: user.email,
        via,
        reclaimed,
        endedSessions: ended.length,
        ...eventClient(client),
      })
      return deps.sessions.open(tx, { userId: user.id, method: 'password', ...client })
    })
    await deps.throttle.succeeded(user.email, client.ip)
    return { user: (await findUserById(db, user.id)) ?? user, cookie: token }
  }

  async function linkedUser(link: AccountLinkRow): Promise<UserRow> {
    const user = await findUserById(db, link.userId)
    if (!user) throw authErrors.invalidLink()
    return user
  }

  return {
    /** Step one of a reset: the same answer and the same single write whether or not an account holds the address. */
    async requestReset(emailInput: string, client: ClientInfo): Promise<void> {
      const email = normalizeEmail(emailInput)
      if (!email) throw authErrors.invalidEmail(undefined, { fields: { email: 'Enter a valid email address.' } })
      await events.account(db, 'auth.password.reset_requested', { email, ...eventClient(client) })
      events.wake()
    },

    /** Off the request path (a worker): the reset link for a request, if an account holds its address. */
    async issueResetLink(request: { id: string; email: string }): Promise<'issued' | 'no_account' | 'capped' | 'done'> {
      const user = await findUserByEmail(db, request.email)
      if (!user) return 'no_account'
      const hourAgo = new Date(now().getTime() - 60 * 60 * 1000)
      if ((await countLinksSince(db, user.id, 'reset_password', hourAgo)) >= resetLinksPerHour) return 'capped'
      const issued = await db.transaction((tx) => links.issue(tx, user, 'reset_password', request.id))
      events.wake()
      return issued ? 'issued' : 'done'
    },

    async resetPassword(input: { token: string; password: string }, client: ClientInfo) {
      const link = await links.find(db, input.token, 'reset_password')
      return setPasswordThroughLink(await linkedUser(link), link, input.password, 'reset_link', client)
    },

    /**
     * The address's owner takes an unproven account back with a confirmation link or an invitation
     * link mailed to its address: its password is replaced and its sessions end.
     */
    async reclaim(
      input: { token: string; from: 'confirmation' | 'invitation'; password: string },
      client: ClientInfo,
      requestId?: string,
    ) {
      if (input.from === 'confirmation') {
        const link = await links.find(db, input.token, 'confirm_email')
        return setPasswordThroughLink(await linkedUser(link), link, input.password, 'confirmation_link', client)
      }
      const email = await deps.invitationProof(input.token, requestId)
      if (!email) throw authErrors.invalidLink('This invitation link is not valid any more. Ask for a new invitation.')
      const user = await findUserByEmail(db, email)
      if (!user) throw authErrors.noAccount()
      if (user.emailConfirmedAt) throw authErrors.confirmedEmailTaken()
      return setPasswordThroughLink(user, null, input.password, 'invitation_link', client)
    },

    /**
     * Proves the address with a confirmation link, by whoever shows they hold the account: its
     * password session in this browser, or its password. A new password instead is `reclaim`.
     */
    async confirmEmail(
      input: { token: string; password?: string | undefined },
      client: ClientInfo,
      signedIn: SignedIn | null,
      previousCookie: string | undefined,
    ): Promise<{ user: UserRow; cookie?: string }> {
      const link = await links.find(db, input.token, 'confirm_email')
      const user = await linkedUser(link)
      const holder = signedIn?.user.id === user.id && accountAuthentication(signedIn) !== undefined
      if (input.password !== undefined) await checkPassword(user, input.password, client, 'password')
      else if (!holder) throw authErrors.passwordRequired()
      const at = now()
      const opened = await db.transaction(async (tx) => {
        if (!(await useLink(tx, link.id, at))) throw authErrors.invalidLink()
        await proveAddress(tx, user, 'confirmation_link', at)
        await retireLinks(tx, user.id, at, { purpose: 'confirm_email' })
        // Who typed the password is signed in, beside this browser's other sign-ins of the person.
        return holder ? undefined : deps.sessions.open(tx, { userId: user.id, method: 'password', ...client })
      })
      events.wake()
      const confirmed = (await findUserById(db, user.id)) ?? user
      if (!opened) return { user: confirmed }
      const cookie = await deps.sessions.withSignIn(previousCookie, user.id, {
        token: opened.token,
        values: { method: 'password', workspaceId: null },
      })
      return { user: confirmed, cookie }
    },

    /** A new confirmation link for the signed-in, unproven account (the earlier ones stop working). */
    async resendConfirmation(user: UserRow): Promise<void> {
      if (user.emailConfirmedAt) throw authErrors.alreadyConfirmed()
      await db.transaction((tx) => links.issue(tx, user, 'confirm_email'))
      events.wake()
    },

    /** The signed-in person changes their password: they give the current one; their other sessions end. */
    async changePassword(
      signedIn: SignedIn,
      session: SessionRow,
      input: { currentPassword: string; newPassword: string },
      client: ClientInfo,
    ): Promise<void> {
      const { user } = signedIn
      await checkPassword(user, input.currentPassword, client, 'currentPassword')
      newPasswordProblem(input.newPassword, 'newPassword')
      const passwordHash = await deps.passwords.hash(input.newPassword)
      const at = now()
      await events.transaction(db, async (tx) => {
        await setPasswordHash(tx, user.id, passwordHash, at)
        // This browser keeps its sign-ins; every other device signs in again with the new password.
        const kept = signedIn.authentications.map((authentication) => authentication.id)
        const ended = await revokeUserSessions(tx, user.id, { except: kept }, idleSince(at), at)
        await retireLinks(tx, user.id, at, { purpose: 'reset_password' })
        await events.logout(tx, ended, 'password_changed')
        await events.account(tx, 'auth.password.changed', {
          userId: user.id,
          email: user.email,
          actingSession: {
            method: session.method,
            ...(session.workspaceId ? { workspaceId: session.workspaceId } : {}),
          },
          endedSessions: ended.length,
          ...eventClient(client),
        })
      })
    },
  }
}

export type RecoveryService = ReturnType<typeof createRecoveryService>

/** The proofs a person gives: a link mailed to the address. */
type LinkProof = Exclude<EmailProof, 'before_proof'>

function eventClient(client: ClientInfo) {
  return { ip: client.ip.slice(0, 64), userAgent: client.userAgent.slice(0, 1024) }
}
