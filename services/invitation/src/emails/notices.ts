// A notice is an email about an event (an SSO change, a password reset, a removal): rendered once,
// written to the outbox once for each person it concerns, and sent by the invitation emails' sender.
import type { Executor } from '../db/database.ts'
import type { RenderedEmail } from './invitation-email.ts'
import { insertNotices } from './repo.ts'

export interface Notice {
  /** The event it tells of: each recipient gets it once, however often the event arrives. */
  eventId: string
  recipients: readonly string[]
  email: RenderedEmail
}

/**
 * Writes the notice to the outbox of the sender of `mailQueue`, one message per recipient who does
 * not have it yet. Returns how many were written: the caller wakes the sender when any were (once
 * its transaction, if any, has committed).
 */
export function writeNotice(db: Executor, mailQueue: string, notice: Notice, now: Date): Promise<number> {
  const { eventId, email } = notice
  const messages = notice.recipients.map((recipient) => ({
    eventId,
    queue: mailQueue,
    recipient,
    subject: email.subject,
    textBody: email.text,
    htmlBody: email.html,
  }))
  return insertNotices(db, messages, now)
}
