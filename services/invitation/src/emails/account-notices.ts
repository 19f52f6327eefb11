import type { LinkIssued, PasswordChanged, PasswordReset } from '@gatehouse/events'
import { type Subscription, subscribe } from '@gatehouse/events'
import type { TokenSeal } from '@gatehouse/server/sealed-token'
import type { FastifyBaseLogger } from 'fastify'
import type { InvitationDatabase } from '../db/database.ts'
import { renderLinkEmail, renderPasswordChangedEmail } from './account-email.ts'
import { writeNotice } from './notices.ts'

/** The subscriber group of the auth stream whose account events this service mails about. */
export const accountNoticesGroup = 'invitation-account-notices'

const linkPages = { confirm_email: '/confirm', reset_password: '/reset' } as const

/**
 * Mails people about their own account through this service's email outbox and sender (the one
 * invitation emails use): the confirmation and reset links auth issues (`auth.link.issued`, whose
 * token is sealed for us), and a notice of every password reset or change. At least once and
 * idempotent (one message per event and recipient); like an invitation's, a link's body is
 * blanked once sent.
 */
export async function startAccountNotices(deps: {
  db: InvitationDatabase
  redisUrl: string
  publicUrl: URL
  mailQueue: string
  wakeEmails: () => void
  seal: TokenSeal
  log: FastifyBaseLogger
  now: () => Date
}): Promise<Subscription> {
  return subscribe({ redisUrl: deps.redisUrl, group: accountNoticesGroup, log: deps.log }, async (event) => {
    if (
      event.type !== 'auth.link.issued' &&
      event.type !== 'auth.password.reset' &&
      event.type !== 'auth.password.changed'
    )
      return
    const email = event.type === 'auth.link.issued' ? linkEmail(event) : passwordNotice(event)
    if (!email) return
    const written = await writeNotice(
      deps.db,
      deps.mailQueue,
      { eventId: event.id, recipients: [event.email], email },
      deps.now(),
    )
    if (written > 0) deps.wakeEmails()
  })

  function linkEmail(event: LinkIssued) {
    const token = deps.seal.open(event.sealedToken, event.linkId)
    if (!token) {
      // Another INTERNAL_TOKEN sealed it (a misconfigured deployment): nothing we could send works.
      deps.log.error({ eventId: event.id }, 'a mailed link does not open with this INTERNAL_TOKEN; not sent')
      return undefined
    }
    const link = new URL(linkPages[event.purpose], deps.publicUrl)
    link.hash = `token=${token}`
    return renderLinkEmail(event, link.href)
  }

  function passwordNotice(event: PasswordReset | PasswordChanged) {
    return renderPasswordChangedEmail(event, new URL('/forgot-password', deps.publicUrl).href)
  }
}
