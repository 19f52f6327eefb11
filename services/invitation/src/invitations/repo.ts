import { executePrepared, rowsOf } from '@gatehouse/db'
import { type InvitationAccepted, outboxInsertFrom } from '@gatehouse/events'
import { and, desc, eq, gt, isNull, lte, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import type { Executor } from '../db/database.ts'
import { deletedWorkspaces, emails, type InvitationRow, invitations, outbox, reclaimedAccounts } from '../db/schema.ts'

/** Inserts the invitation, or returns undefined when the email already has a pending one there. */
export async function insertInvitation(
  db: Executor,
  values: typeof invitations.$inferInsert,
): Promise<InvitationRow | undefined> {
  // No conflict target: the partial unique index on pending (workspace, email) is the one that
  // can conflict (a token hash collision is a 2^-256 event).
  const [row] = await db.insert(invitations).values(values).onConflictDoNothing().returning()
  return row
}

/**
 * Marks a lapsed pending invitation of this email and workspace as expired, so that a new
 * invitation may take its place under the one-pending-invitation index.
 */
export async function expireLapsedInvitation(db: Executor, workspaceId: string, email: string, now: Date) {
  await db
    .update(invitations)
    .set({ status: 'expired' })
    .where(
      and(
        eq(invitations.workspaceId, workspaceId),
        eq(invitations.email, email),
        eq(invitations.status, 'pending'),
        lte(invitations.expiresAt, now),
      ),
    )
}

export async function findInvitation(db: Executor, invitationId: string): Promise<InvitationRow | undefined> {
  const [row] = await db.select().from(invitations).where(eq(invitations.id, invitationId)).limit(1)
  return row
}

export async function findInvitationByTokenHash(db: Executor, tokenHash: string): Promise<InvitationRow | undefined> {
  const [row] = await db.select().from(invitations).where(eq(invitations.tokenHash, tokenHash)).limit(1)
  return row
}

/** The workspace's invitations, newest first (bounded: a page the admin reads, not an export). */
export function listInvitations(db: Executor, workspaceId: string, limit = 1_000): Promise<InvitationRow[]> {
  return db
    .select()
    .from(invitations)
    .where(eq(invitations.workspaceId, workspaceId))
    .orderBy(desc(invitations.createdAt), desc(invitations.id))
    .limit(limit)
}

const openAt = (now: Date) => and(eq(invitations.status, 'pending'), gt(invitations.expiresAt, now))

/**
 * Accepts the invitation if it is still open at `now`, in one statement (one round trip): blanks
 * its unsent emails (the token is in their bodies) and writes `event` to the outbox only if it
 * did. False when the invitation was not open (any more).
 */
export async function acceptOpenInvitation(
  db: Executor,
  accept: { invitationId: string; userId: string; now: Date; event: InvitationAccepted },
): Promise<boolean> {
  const now = sql`${accept.now.toISOString()}::timestamptz`
  const result = await executePrepared(
    db,
    'accept_open_invitation',
    sql`
    with accepted as (
      update ${invitations} set status = 'accepted', accepted_at = ${now}, accepted_by = ${accept.userId}::uuid
      where id = ${accept.invitationId}::uuid and status = 'pending' and expires_at > ${now}
      returning id
    ), discarded as (
      update ${emails} set text_body = '', html_body = '', discarded_at = ${now}
      where invitation_id = (select id from accepted) and sent_at is null and discarded_at is null
    ), announced as (${outboxInsertFrom(outbox, accept.event, 'accepted')})
    select count(*)::int as accepted from accepted`,
  )
  return rowsOf<{ accepted: number }>(result)[0]?.accepted === 1
}

/** Revokes a pending invitation (lapsed or not); undefined when it was not pending. */
export async function markRevoked(db: Executor, invitationId: string, now: Date) {
  const [row] = await db
    .update(invitations)
    .set({ status: 'revoked', revokedAt: now })
    .where(and(eq(invitations.id, invitationId), eq(invitations.status, 'pending')))
    .returning()
  return row
}

/** Gives an open invitation a new token and a new lifetime; undefined when it is not open. */
export async function replaceToken(db: Executor, invitationId: string, tokenHash: string, expiresAt: Date, now: Date) {
  const [row] = await db
    .update(invitations)
    .set({ tokenHash, expiresAt })
    .where(and(eq(invitations.id, invitationId), openAt(now)))
    .returning()
  return row
}

/** Blanks the messages of an invitation that have not left yet: their link no longer works. */
export async function discardUnsentEmails(db: Executor, invitationId: string, now: Date) {
  await db
    .update(emails)
    .set({ textBody: '', htmlBody: '', discardedAt: now })
    .where(and(eq(emails.invitationId, invitationId), isNull(emails.sentAt), isNull(emails.discardedAt)))
}

/**
 * The person's accepted invitations into the workspace, once their membership is removed (every
 * person's, `userId` null, once the workspace is deleted): shown as revoked from then on (the
 * invitation no longer makes them a member).
 */
export async function markMembershipRemoved(db: Executor, workspaceId: string, userId: string | null, at: Date) {
  return db
    .update(invitations)
    .set({ status: 'revoked', revokedAt: at })
    .where(
      and(
        eq(invitations.workspaceId, workspaceId),
        userId === null ? undefined : eq(invitations.acceptedBy, userId),
        eq(invitations.status, 'accepted'),
      ),
    )
    .returning({ id: invitations.id })
}

/**
 * Revokes the workspace's pending invitations (only those `invitedBy` sent, when given) and blanks
 * their unsent messages: what an account whose address was reclaimed left behind (membership.removed
 * with a `reason`). Returns the invitations it revoked.
 */
export async function revokePendingInvitations(
  db: Executor,
  workspaceId: string,
  invitedBy: string | null,
  at: Date,
): Promise<Pick<InvitationRow, 'id' | 'workspaceId' | 'email'>[]> {
  const revoked = await db
    .update(invitations)
    .set({ status: 'revoked', revokedAt: at })
    .where(
      and(
        eq(invitations.workspaceId, workspaceId),
        eq(invitations.status, 'pending'),
        invitedBy === null ? undefined : eq(invitations.invitedBy, invitedBy),
      ),
    )
    .returning({ id: invitations.id, workspaceId: invitations.workspaceId, email: invitations.email })
  for (const { id } of revoked) await discardUnsentEmails(db, id, at)
  return revoked
}

/**
 * Serializes, for one account, an invitation it sends with the revocations its reclaim causes (a
 * lock held until the transaction ends): whichever commits second sees what the first wrote.
 */
export async function lockInviter(db: Executor, userId: string): Promise<void> {
  await transactionLock(db, `invitation-inviter:${userId}`, 'exclusive')
}

/** Records that the account's address was reclaimed (once: the event may arrive again). */
export async function recordReclaimedAccount(db: Executor, userId: string, at: Date): Promise<void> {
  await db.insert(reclaimedAccounts).values({ userId, reclaimedAt: at }).onConflictDoNothing()
}

export const wasReclaimed = (db: Executor, userId: string) => isRecorded(db, reclaimedAccounts.userId, userId)

/**
 * Serializes, for one workspace, the sweep of its deletion (`exclusive`) with invitations being
 * sent into it (`shared`: two admins inviting at once do not wait for each other), until the
 * transaction ends: an invitation committed first is revoked by the sweep, one committed after sees
 * the deletion.
 */
export async function lockWorkspace(db: Executor, workspaceId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  await transactionLock(db, `invitation-workspace:${workspaceId}`, mode)
}

/**
 * A Postgres advisory lock on `name`, held until the transaction ends. A check made under it is a
 * statement of its own after it: a statement taking the lock and reading in one would read from a
 * snapshot taken before the wait, and miss what the holder committed.
 */
async function transactionLock(db: Executor, name: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const key = sql`hashtextextended(${name}, 0)`
  await db.execute(
    mode === 'shared' ? sql`select pg_advisory_xact_lock_shared(${key})` : sql`select pg_advisory_xact_lock(${key})`,
  )
}

/** Records that auth deleted the workspace (once: every member's removal announces it). */
export async function recordDeletedWorkspace(db: Executor, workspaceId: string, at: Date): Promise<void> {
  await db.insert(deletedWorkspaces).values({ workspaceId, deletedAt: at }).onConflictDoNothing()
}

export const wasDeleted = (db: Executor, workspaceId: string) =>
  isRecorded(db, deletedWorkspaces.workspaceId, workspaceId)

/** Whether the table of `key` (a record of something auth ended) holds `id`. */
async function isRecorded(db: Executor, key: PgColumn, id: string): Promise<boolean> {
  const rows = await db.select({ key }).from(key.table).where(eq(key, id)).limit(1)
  return rows.length > 0
}

/** The open invitations of an address, newest first (bounded: a home page's list). */
export function listOpenInvitationsFor(db: Executor, email: string, now: Date, limit = 50): Promise<InvitationRow[]> {
  return db
    .select()
    .from(invitations)
    .where(and(eq(invitations.email, email), openAt(now)))
    .orderBy(desc(invitations.createdAt), desc(invitations.id))
    .limit(limit)
}
