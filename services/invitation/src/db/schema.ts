import { outboxTable } from '@gatehouse/events'
import { sql } from 'drizzle-orm'
import { index, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

export const invitationSchema = pgSchema('invitation')

export const invitationRoles = ['member', 'admin'] as const
export type InvitationRole = (typeof invitationRoles)[number]

/**
 * An invitation of one email into one workspace. Only the SHA-256 of its token is kept. The
 * workspace's name and the inviter's email are copied at invitation time: the link's holder may
 * look them up without a session, and this service never reads auth's tables.
 *
 * `status` stores `expired` only for an invitation replaced by a new one after it expired; an
 * unreplaced pending invitation past `expiresAt` is shown as expired without being written.
 */
export const invitations = invitationSchema.table(
  'invitations',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id').notNull(),
    workspaceName: text('workspace_name').notNull(),
    email: text('email').notNull(),
    role: text('role', { enum: invitationRoles }).notNull(),
    status: text('status', { enum: ['pending', 'accepted', 'revoked', 'expired'] })
      .notNull()
      .default('pending'),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').notNull(),
    inviterEmail: text('inviter_email').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    acceptedBy: uuid('accepted_by'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('invitations_token_hash_key').on(table.tokenHash),
    // One open invitation per person and workspace: decides races between two admins inviting at once.
    uniqueIndex('invitations_pending_email_key').on(table.workspaceId, table.email).where(sql`"status" = 'pending'`),
    index('invitations_workspace_idx').on(table.workspaceId, table.createdAt),
  ],
)

/**
 * The email outbox: a message is written in the transaction that creates (or re-sends) its
 * invitation, or that handles the event it tells of (`eventId`, e.g. an owner told that the
 * workspace's IdP changed), then queued for the sender and sent at least once. The bodies hold the link, so the
 * raw token: they are blanked once sent or superseded, so a token lives in the database only
 * while its email is on its way (a database dump taken later holds no usable link).
 */
export const emails = invitationSchema.table(
  'emails',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    invitationId: uuid('invitation_id').references(() => invitations.id, { onDelete: 'cascade' }),
    /** The event a notice tells of: each recipient gets it once however often the event arrives. */
    eventId: uuid('event_id'),
    /** The sender queue (config `mailQueue`) that delivers it. */
    queue: text('queue').notNull(),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    queuedAt: timestamp('queued_at', { withTimezone: true }),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** Set when a newer link (resend) or a revocation made this message pointless before it left. */
    discardedAt: timestamp('discarded_at', { withTimezone: true }),
  },
  (table) => [
    // The delivery loop reads only messages still on their way.
    index('emails_unsent_idx').on(table.queue, table.queuedAt).where(sql`"sent_at" is null and "discarded_at" is null`),
    index('emails_invitation_idx').on(table.invitationId),
    uniqueIndex('emails_event_recipient_key').on(table.eventId, table.recipient),
  ],
)

/**
 * Accounts whose address's owner took them back (auth's `membership.removed` with a `reason`): an
 * invitation their maker was sending at that moment is refused (invitations/service.ts, invite).
 */
export const reclaimedAccounts = invitationSchema.table('reclaimed_accounts', {
  userId: uuid('user_id').primaryKey(),
  reclaimedAt: timestamp('reclaimed_at', { withTimezone: true }).notNull(),
})

/**
 * Workspaces auth deleted (`membership.removed` with `reason: 'workspace_deleted'`), recorded by the
 * sweep that revokes their pending and accepted invitations: an invitation sent into one afterwards
 * is refused, and accepting one tells why (invitations/service.ts).
 */
export const deletedWorkspaces = invitationSchema.table('deleted_workspaces', {
  workspaceId: uuid('workspace_id').primaryKey(),
  deletedAt: timestamp('deleted_at', { withTimezone: true }).notNull(),
})

export const outbox = outboxTable(invitationSchema)

export type InvitationRow = typeof invitations.$inferSelect
export type EmailRow = typeof emails.$inferSelect
