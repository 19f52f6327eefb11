import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm'
import type { Executor } from '../db/database.ts'
import { type EmailRow, emails } from '../db/schema.ts'

export async function insertEmail(db: Executor, values: typeof emails.$inferInsert): Promise<EmailRow> {
  const [row] = await db.insert(emails).values(values).returning()
  if (!row) throw new Error('email insert returned nothing')
  return row
}

/** Writes notices (messages about an event); one per event and recipient, however often it arrives. */
export async function insertNotices(
  db: Executor,
  notices: Omit<typeof emails.$inferInsert, 'createdAt'>[],
  now: Date,
): Promise<number> {
  if (notices.length === 0) return 0
  const written = await db
    .insert(emails)
    .values(notices.map((notice) => ({ ...notice, createdAt: now })))
    .onConflictDoNothing({ target: [emails.eventId, emails.recipient] })
    .returning({ id: emails.id })
  return written.length
}

/**
 * Locks messages of this queue that still need a job: never queued, or queued so long ago
 * without being sent that the job may have been lost (Redis restarted without persistence).
 * Queueing again is harmless: the job id is the message id.
 */
export async function claimEmailsToQueue(db: Executor, queue: string, requeueBefore: Date, limit: number) {
  return db
    .select({ id: emails.id })
    .from(emails)
    .where(
      and(
        eq(emails.queue, queue),
        isNull(emails.sentAt),
        isNull(emails.discardedAt),
        or(isNull(emails.queuedAt), lt(emails.queuedAt, requeueBefore)),
      ),
    )
    .orderBy(emails.createdAt)
    .limit(limit)
    .for('update', { skipLocked: true })
}

export async function markQueued(db: Executor, emailIds: string[], now: Date): Promise<void> {
  if (emailIds.length === 0) return
  await db.update(emails).set({ queuedAt: now }).where(inArray(emails.id, emailIds))
}

export async function findEmail(db: Executor, emailId: string): Promise<EmailRow | undefined> {
  const [row] = await db.select().from(emails).where(eq(emails.id, emailId)).limit(1)
  return row
}

/** Records the delivery and drops the bodies, and with them the only copy of the raw token. */
export async function markSent(db: Executor, emailId: string, now: Date): Promise<void> {
  await db.update(emails).set({ sentAt: now, textBody: '', htmlBody: '' }).where(eq(emails.id, emailId))
}
