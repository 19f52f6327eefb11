import {
  createEvent,
  type MembershipRemoved,
  type OutboxTable,
  type Subscription,
  subscribe,
  writeEvent,
} from '@gatehouse/events'
import type { FastifyBaseLogger } from 'fastify'
import type { Executor, InvitationDatabase } from '../db/database.ts'
import { writeNotice } from '../emails/notices.ts'
import { renderRemovalEmail } from '../emails/removal-email.ts'
import {
  lockInviter,
  lockWorkspace,
  markMembershipRemoved,
  recordDeletedWorkspace,
  recordReclaimedAccount,
  revokePendingInvitations,
} from './repo.ts'

/** The subscriber group of the auth stream that keeps invitations true to memberships. */
export const membershipRemovalsGroup = 'invitation-membership-removals'

/**
 * Applies auth's `membership.removed`: the person's accepted invitations into the workspace show
 * as revoked (and, with a `reason`, the invitations left pending are revoked, each announced with
 * `invitation.revoked`), and a person removed by someone else (not one who left) is told by email,
 * through the invitation emails' outbox and sender. Both in one transaction; at least once and idempotent
 * (the update changes nothing the second time, the notice is one per event and recipient).
 */
export function startMembershipRemovals(deps: {
  db: InvitationDatabase
  outbox: OutboxTable
  wakeEvents: () => void
  redisUrl: string
  publicUrl: URL
  mailQueue: string
  wakeEmails: () => void
  log: FastifyBaseLogger
}): Promise<Subscription> {
  const homeUrl = new URL('/', deps.publicUrl).href
  return subscribe({ redisUrl: deps.redisUrl, group: membershipRemovalsGroup, log: deps.log }, async (event) => {
    if (event.type !== 'membership.removed') return
    const removedAt = new Date(event.occurredAt)
    const { notices, revoked } = await deps.db.transaction(async (tx) => {
      const revoked = event.reason ? await revokeLeftPending(tx, deps.outbox, event, removedAt) : 0
      await markMembershipRemoved(tx, event.workspaceId, event.userId, removedAt)
      if (event.by === event.userId) return { notices: 0, revoked }
      const email = renderRemovalEmail(event, homeUrl)
      const notices = await writeNotice(
        tx,
        deps.mailQueue,
        { eventId: event.id, recipients: [event.email], email },
        removedAt,
      )
      return { notices, revoked }
    })
    if (notices > 0) deps.wakeEmails()
    if (revoked > 0) deps.wakeEvents()
  })
}

/**
 * An unproven account's address was reclaimed by its owner (`by`): what it (or anyone, in a
 * workspace it alone owned, which is gone) left pending would let people in on its behalf. Each is
 * revoked and announced as an admin's revoke is (auth's audit trail), by that account. Under the
 * account's inviter lock, and recorded: one it is sending right now is revoked here if it committed
 * first, or refused if it commits after (invitations/service.ts, invite). A deleted workspace is
 * likewise locked and recorded, for what its other admins are sending into it right now, and its
 * accepted invitations show revoked (not announced, as no ended membership's invitation is: auth
 * told of the memberships, and logs an acceptance that found no workspace as `workspace_deleted`).
 */
async function revokeLeftPending(
  tx: Executor,
  outbox: OutboxTable,
  event: MembershipRemoved,
  removedAt: Date,
): Promise<number> {
  await lockInviter(tx, event.by)
  await recordReclaimedAccount(tx, event.by, removedAt)
  if (event.reason === 'workspace_deleted') {
    await lockWorkspace(tx, event.workspaceId, 'exclusive')
    await recordDeletedWorkspace(tx, event.workspaceId, removedAt)
  }
  const invitedBy = event.reason === 'account_reclaimed' ? event.userId : null
  const revoked = await revokePendingInvitations(tx, event.workspaceId, invitedBy, removedAt)
  for (const { id: invitationId, workspaceId, email } of revoked) {
    const payload = { invitationId, workspaceId, email, by: event.by, actingSession: event.actingSession }
    await writeEvent(tx, outbox, createEvent('invitation.revoked', payload, removedAt))
  }
  if (event.reason === 'workspace_deleted') {
    // No accepted invitation into a deleted workspace makes anyone a member: whoever was one has
    // their own removal among the deletion's events, and one accepted after auth deleted it (or
    // before its event reached auth) was granted nothing there. After the pending ones, in a
    // statement of its own: an acceptance that took a pending row before their revoke is seen here.
    await markMembershipRemoved(tx, event.workspaceId, null, removedAt)
  }
  return revoked.length
}
