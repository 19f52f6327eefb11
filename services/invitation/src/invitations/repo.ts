import { and, desc, eq, gt, isNull, lte } from 'drizzle-orm'
import type { Executor } from '../db/database.ts'
import { emails, type InvitationRow, invitations } from '../db/schema.ts'

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

/** Accepts the invitation if it is still open at `now`; undefined when it is not (any more). */
export async function markAccepted(db: Executor, invitationId: string, userId: string, now: Date) {
  const [row] = await db
    .update(invitations)
    .set({ status: 'accepted', acceptedAt: now, acceptedBy: userId })
    .where(and(eq(invitations.id, invitationId), openAt(now)))
    .returning()
  return row
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
