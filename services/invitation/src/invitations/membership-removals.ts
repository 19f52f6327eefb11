import { type Subscription, subscribe } from '@gatehouse/events'
import type { FastifyBaseLogger } from 'fastify'
import type { InvitationDatabase } from '../db/database.ts'
import { renderRemovalEmail } from '../emails/removal-email.ts'
import { insertNotices } from '../emails/repo.ts'
import { markMembershipRemoved, revokePendingInvitations } from './repo.ts'

/** The subscriber group of the auth stream that keeps invitations true to memberships. */
export const membershipRemovalsGroup = 'invitation-membership-removals'

/**
 * Applies auth's `membership.removed`: the person's accepted invitations into the workspace show
 * as revoked (and, with a `reason`, the invitations left pending are revoked), and a person removed by someone else (not one who left) is told by email, through
 * the invitation emails' outbox and sender. Both in one transaction; at least once and idempotent
 * (the update changes nothing the second time, the notice is one per event and recipient).
 */
export function startMembershipRemovals(deps: {
  db: InvitationDatabase
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
    const written = await deps.db.transaction(async (tx) => {
      await markMembershipRemoved(tx, event.workspaceId, event.userId, removedAt)
      // An unproven account's address was reclaimed by its owner: what it (or anyone, in a
      // workspace it alone owned, which is gone) left pending would let people in on its behalf.
      if (event.reason === 'workspace_deleted') await revokePendingInvitations(tx, event.workspaceId, null, removedAt)
      if (event.reason === 'account_reclaimed') {
        await revokePendingInvitations(tx, event.workspaceId, event.userId, removedAt)
      }
      if (event.by === event.userId) return 0
      const rendered = renderRemovalEmail(event, homeUrl)
      return insertNotices(
        tx,
        [
          {
            eventId: event.id,
            queue: deps.mailQueue,
            recipient: event.email,
            subject: rendered.subject,
            textBody: rendered.text,
            htmlBody: rendered.html,
          },
        ],
        removedAt,
      )
    })
    if (written > 0) deps.wakeEmails()
  })
}
