import { createHash, randomBytes } from 'node:crypto'
import { createEvent, type OutboxTable, writeEvent } from '@gatehouse/events'
import { normalizeEmail } from '@gatehouse/server/email'
import { AppError, errors } from '@gatehouse/server/errors'
import { type Authentication, reauthenticationRequired } from '@gatehouse/server/internal'
import type { InvitationDatabase } from '../db/database.ts'
import type { InvitationRole, InvitationRow } from '../db/schema.ts'
import { renderInvitationEmail } from '../emails/invitation-email.ts'
import { insertEmail } from '../emails/repo.ts'
import { invitationErrors } from '../errors.ts'
import { type Introspection, passwordReauthentication } from '../sessions/auth-client.ts'
import type { LimitInvitationMail } from './mail-limits.ts'
import {
  acceptOpenInvitation,
  discardUnsentEmails,
  expireLapsedInvitation,
  findInvitation,
  findInvitationByTokenHash,
  insertInvitation,
  listInvitations,
  listOpenInvitationsFor,
  lockInviter,
  lockWorkspace,
  markMembershipRemoved,
  markRevoked,
  replaceToken,
  wasDeleted,
  wasReclaimed,
} from './repo.ts'

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired'

/** Asks auth who the request's session is, optionally about a workspace and an email there. */
export interface Identify {
  (about?: { workspaceId?: string; email?: string }): Promise<Introspection>
  /** The caller's address, for the audit trail auth keeps of invitation changes. */
  ip: string
}
/** Asks auth to remove a membership for the requesting admin (auth applies its own rules). */
export type RemoveMember = (membership: { workspaceId: string; userId: string; invitationId: string }) => Promise<void>

export interface InvitationServiceDeps {
  db: InvitationDatabase
  outbox: OutboxTable
  publicUrl: URL
  ttlSeconds: number
  mailQueue: string
  /** Called after a commit that wrote an event / an email, so they leave at once. */
  wakeEvents: () => void
  wakeEmails: () => void
  now: () => Date
  /** Counts one invitation email (an invitation or a resend) against the limits; throws 429 past one. */
  limitMail: LimitInvitationMail
}

export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** What an invitation shows now: a pending one past its expiry is expired, whatever is stored. */
export function statusOf(invitation: InvitationRow, now: Date): InvitationStatus {
  return invitation.status === 'pending' && invitation.expiresAt.getTime() <= now.getTime()
    ? 'expired'
    : invitation.status
}

function requireAdmin(actor: Introspection, workspaceId: string) {
  const workspace = actor.workspace
  // A stranger learns only that they may not (403), never whether the workspace exists.
  if (!workspace?.role || workspace.id !== workspaceId) {
    throw errors.forbidden('You are not a member of this workspace.')
  }
  // A member signed in only through another workspace's IdP: that IdP does not vouch for them here.
  if (!workspace.reachedBy) {
    throw reauthenticationRequired(
      'Your current sign-in does not reach this workspace. Sign in with your password or with this workspace’s SSO.',
      workspace.signIn,
    )
  }
  if (workspace.role !== 'owner' && workspace.role !== 'admin') {
    throw errors.forbidden('Only a workspace owner or admin can do this.')
  }
  return { ...workspace, reachedBy: workspace.reachedBy }
}

/** How the acting session was authenticated, for the events it causes. */
function actingSession(authentication: Authentication) {
  return {
    method: authentication.method,
    ...(authentication.workspaceId ? { workspaceId: authentication.workspaceId } : {}),
  }
}

/** Who acted, through which sign-in, from where: what an invitation event tells auth's audit trail. */
function actedBy(identify: Identify, actor: Introspection, authentication: Authentication) {
  return { actingSession: actingSession(authentication), by: actor.user.id, ip: identify.ip.slice(0, 64) }
}

export function createInvitationService(deps: InvitationServiceDeps) {
  const { db } = deps

  function newToken() {
    // 256 bits from the CSPRNG; only the SHA-256 is stored, so a database leak reveals no link.
    const token = randomBytes(32).toString('base64url')
    return { token, tokenHash: hashInvitationToken(token) }
  }

  function expiryFrom(now: Date) {
    return new Date(now.getTime() + deps.ttlSeconds * 1000)
  }

  function emailFor(invitation: InvitationRow, token: string) {
    const link = new URL('/invite', deps.publicUrl)
    link.hash = `token=${token}`
    const rendered = renderInvitationEmail({
      workspaceName: invitation.workspaceName,
      inviterEmail: invitation.inviterEmail,
      role: invitation.role,
      link: link.href,
      expiresAt: invitation.expiresAt,
    })
    return {
      invitationId: invitation.id,
      queue: deps.mailQueue,
      recipient: invitation.email,
      subject: rendered.subject,
      textBody: rendered.text,
      htmlBody: rendered.html,
    }
  }

  const summary = (invitation: InvitationRow) => ({
    invitationId: invitation.id,
    workspaceId: invitation.workspaceId,
    email: invitation.email,
  })

  /** The invitation a request names, with permission checked first: 401, then 404, then 403. */
  async function invitationForAdmin(identify: Identify, invitationId: string) {
    const invitation = await findInvitation(db, invitationId)
    const actor = await identify(invitation ? { workspaceId: invitation.workspaceId } : {})
    if (!invitation) throw errors.notFound('No such invitation.')
    const { reachedBy } = requireAdmin(actor, invitation.workspaceId)
    return { invitation, reachedBy, actor }
  }

  return {
    async invite(identify: Identify, input: { workspaceId: string; email: string; role: InvitationRole }) {
      const email = normalizeEmail(input.email)
      const actor = await identify({ workspaceId: input.workspaceId, ...(email ? { email } : {}) })
      const workspace = requireAdmin(actor, input.workspaceId)
      if (!email) throw invitationErrors.invalidEmail()
      if (workspace.emailIsMember) throw invitationErrors.alreadyMember()
      await deps.limitMail({ inviter: actor.user, workspaceId: workspace.id, recipient: email })

      const now = deps.now()
      const { token, tokenHash } = newToken()
      const invitation = await db.transaction(async (tx) => {
        // An unproven inviter's address may be reclaimed by its owner between the check above and
        // this commit; then the session that asked has ended, and what it sends must not stand.
        if (actor.user.emailConfirmed !== true) {
          await lockInviter(tx, actor.user.id)
          if (await wasReclaimed(tx, actor.user.id)) throw errors.unauthenticated()
        }
        // Likewise the workspace may be deleted with the unproven account that alone owned it,
        // though its other admins were still vouched for above: what they send then must not stand.
        await lockWorkspace(tx, workspace.id, 'shared')
        if (await wasDeleted(tx, workspace.id)) throw invitationErrors.workspaceDeleted()
        await expireLapsedInvitation(tx, workspace.id, email, now)
        const created = await insertInvitation(tx, {
          workspaceId: workspace.id,
          workspaceName: workspace.name,
          email,
          role: input.role,
          tokenHash,
          invitedBy: actor.user.id,
          inviterEmail: actor.user.email,
          createdAt: now,
          expiresAt: expiryFrom(now),
        })
        if (!created) throw invitationErrors.alreadyInvited()
        await insertEmail(tx, { ...emailFor(created, token), createdAt: now })
        await writeEvent(
          tx,
          deps.outbox,
          createEvent(
            'invitation.created',
            { ...summary(created), role: created.role, ...actedBy(identify, actor, workspace.reachedBy) },
            now,
          ),
        )
        return created
      })
      deps.wakeEmails()
      deps.wakeEvents()
      return invitation
    },

    async list(identify: Identify, workspaceId: string) {
      requireAdmin(await identify({ workspaceId }), workspaceId)
      return listInvitations(db, workspaceId)
    },

    /** A new link (the old one stops working), a new lifetime, and the email again. */
    async resend(identify: Identify, invitationId: string) {
      const { invitation, actor, reachedBy } = await invitationForAdmin(identify, invitationId)
      const now = deps.now()
      if (statusOf(invitation, now) !== 'pending') throw invitationErrors.notPending()
      await deps.limitMail({ inviter: actor.user, workspaceId: invitation.workspaceId, recipient: invitation.email })
      const { token, tokenHash } = newToken()
      await db.transaction(async (tx) => {
        const renewed = await replaceToken(tx, invitation.id, tokenHash, expiryFrom(now), now)
        if (!renewed) throw invitationErrors.notPending()
        await discardUnsentEmails(tx, invitation.id, now)
        await insertEmail(tx, { ...emailFor(renewed, token), createdAt: now })
        await writeEvent(
          tx,
          deps.outbox,
          createEvent('invitation.resent', { ...summary(renewed), ...actedBy(identify, actor, reachedBy) }, now),
        )
      })
      deps.wakeEmails()
      deps.wakeEvents()
    },

    /**
     * Revokes a pending invitation; revoking an accepted one removes the membership it made (auth
     * decides, with its members route's rules, before this answers); revoking a revoked one again
     * changes nothing.
     */
    async revoke(identify: Identify, removeMember: RemoveMember, invitationId: string) {
      const { invitation, reachedBy, actor } = await invitationForAdmin(identify, invitationId)
      if (invitation.status === 'revoked') return
      if (invitation.status === 'accepted' && invitation.acceptedBy) {
        const membership = { workspaceId: invitation.workspaceId, userId: invitation.acceptedBy }
        // With the invitation's id: its event may not have reached auth yet, and must then grant nothing.
        await removeMember({ ...membership, invitationId: invitation.id }).catch((error: unknown) => {
          // Already removed (the members page, or they left): the invitation only has to show it.
          if (!(error instanceof AppError && error.code === 'member_not_found')) throw error
        })
        await markMembershipRemoved(db, membership.workspaceId, membership.userId, deps.now())
        return
      }
      if (invitation.status !== 'pending') throw invitationErrors.notPending()
      const now = deps.now()
      await db.transaction(async (tx) => {
        const revoked = await markRevoked(tx, invitation.id, now)
        if (!revoked) throw invitationErrors.notPending()
        await discardUnsentEmails(tx, invitation.id, now)
        await writeEvent(
          tx,
          deps.outbox,
          createEvent('invitation.revoked', { ...summary(revoked), ...actedBy(identify, actor, reachedBy) }, now),
        )
      })
      deps.wakeEvents()
    },

    /** What the link's holder may see before signing up: no session needed, the token is the key. */
    async lookup(token: string) {
      const invitation = await findInvitationByTokenHash(db, hashInvitationToken(token))
      if (!invitation) throw invitationErrors.invalidToken()
      return invitation
    },

    /**
     * Accepts for the signed-in person. CONTRACT.md's rule: only a password account whose email
     * is the invited one; the membership itself is granted by auth on `invitation.accepted`.
     */
    /** The address a live (pending, unexpired) invitation token was mailed to, or null: its holder proved it. */
    async provenAddress(token: string): Promise<string | null> {
      const invitation = await findInvitationByTokenHash(db, hashInvitationToken(token))
      return invitation && statusOf(invitation, deps.now()) === 'pending' ? invitation.email : null
    },

    async accept(identify: Identify, token: string) {
      const actor = await identify()
      // Joining a workspace changes the account: a sign-in through some workspace's IdP may not.
      if (!actor.account) throw passwordReauthentication()
      const invitation = await findInvitationByTokenHash(db, hashInvitationToken(token))
      if (!invitation) throw invitationErrors.invalidToken()
      return acceptFor(identify, actor, actor.account, invitation)
    },

    /**
     * The open invitations waiting for the signed-in person's address, for their home page: only
     * once the address is proven (an account anyone could have made with it sees nothing).
     */
    async mine(identify: Identify) {
      const actor = await identify()
      if (!actor.account) throw passwordReauthentication()
      const email = normalizeEmail(actor.user.email)
      const addressProven = actor.user.emailConfirmed === true
      const invitations = addressProven && email ? await listOpenInvitationsFor(db, email, deps.now()) : []
      return { addressProven, invitations }
    },

    /**
     * Accepts one of those from the home page: the proven address stands in for the link (the
     * link's token is only ever in the email), with the same rules as accepting by the link.
     */
    async acceptById(identify: Identify, invitationId: string) {
      const actor = await identify()
      if (!actor.account) throw passwordReauthentication()
      const invitation = await findInvitation(db, invitationId)
      // Someone else's invitation is as unknown as a wrong token.
      if (!invitation || normalizeEmail(actor.user.email) !== invitation.email) throw invitationErrors.invalidToken()
      if (actor.user.emailConfirmed !== true) throw invitationErrors.emailUnconfirmed()
      return acceptFor(identify, actor, actor.account, invitation)
    },
  }

  async function acceptFor(
    identify: Identify,
    actor: Introspection,
    account: Authentication,
    invitation: InvitationRow,
  ) {
    if (actor.user.createdVia !== 'password') {
      throw invitationErrors.emailMismatch('Sign up with a password using the invited email address, then accept.')
    }
    if (normalizeEmail(actor.user.email) !== invitation.email) throw invitationErrors.emailMismatch()

    const now = deps.now()
    await refuseUnlessOpen(invitation, now)
    // Proof of address: an account someone else could have made with this address joins nothing,
    // by the link or from the home page (an account made from the link is proven by it).
    if (actor.user.emailConfirmed !== true) throw invitationErrors.emailUnconfirmed()
    const event = createEvent(
      'invitation.accepted',
      {
        ...summary(invitation),
        userId: actor.user.id,
        role: invitation.role,
        acceptedAt: now.toISOString(),
        ...actedBy(identify, actor, account),
      },
      now,
    )
    if (!(await acceptOpenInvitation(db, { invitationId: invitation.id, userId: actor.user.id, now, event }))) {
      // Another request changed it between the read and the update (a double click, a revoke).
      const current = await findInvitation(db, invitation.id)
      if (current) await refuseUnlessOpen(current, now)
      throw invitationErrors.invalidToken()
    }
    const accepted: InvitationRow = { ...invitation, status: 'accepted', acceptedAt: now, acceptedBy: actor.user.id }
    deps.wakeEvents()
    return accepted
  }

  /** Refuses an invitation that is not open, saying why: its workspace's deletion first (that is what revoked it). */
  async function refuseUnlessOpen(invitation: InvitationRow, now: Date): Promise<void> {
    const status = statusOf(invitation, now)
    if (status === 'pending') return
    if (await wasDeleted(db, invitation.workspaceId)) throw invitationErrors.workspaceDeleted()
    switch (status) {
      case 'accepted':
        throw invitationErrors.alreadyAccepted()
      case 'revoked':
        throw invitationErrors.revoked()
      case 'expired':
        throw invitationErrors.expired()
    }
  }
}

export type InvitationService = ReturnType<typeof createInvitationService>
