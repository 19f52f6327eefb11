import {
  type SsoConnectionChanged,
  type SsoRecoveryUsed,
  type SsoSetupLinkUsed,
  type Subscription,
  subscribe,
} from '@gatehouse/events'
import type { FastifyBaseLogger } from 'fastify'
import type { InvitationDatabase } from '../db/database.ts'
import { insertNotices } from './repo.ts'
import { renderRecoveryEmail, renderSetupLinkEmail, renderSsoChangeEmail } from './sso-change-email.ts'

/** The subscriber group of the auth stream whose events this service mails about. */
export const ssoNoticesGroup = 'invitation-sso-notices'

/**
 * Mails the owners of a workspace about each `sso.connection.changed` auth announces (and the other
 * owners and the admins about each `sso.recovery.used`, the owner who made a setup link about
 * each `sso.setup_link.used`), through this
 * service's email outbox and sender (the one the invitation emails use). At least once and
 * idempotent: a redelivered event finds its messages already written (one per event and recipient).
 */
export async function startSsoChangeNotices(deps: {
  db: InvitationDatabase
  redisUrl: string
  publicUrl: URL
  mailQueue: string
  wakeEmails: () => void
  log: FastifyBaseLogger
  now: () => Date
}): Promise<Subscription> {
  return subscribe({ redisUrl: deps.redisUrl, group: ssoNoticesGroup, log: deps.log }, async (event) => {
    if (
      event.type !== 'sso.connection.changed' &&
      event.type !== 'sso.recovery.used' &&
      event.type !== 'sso.setup_link.used'
    )
      return
    const written = await insertNotices(deps.db, noticesFor(event), deps.now())
    if (written > 0) deps.wakeEmails()
  })

  function noticesFor(event: SsoConnectionChanged | SsoRecoveryUsed | SsoSetupLinkUsed) {
    const settingsUrl = new URL(`/workspaces/${event.workspaceId}/sso`, deps.publicUrl).href
    const rendered =
      event.type === 'sso.connection.changed'
        ? renderSsoChangeEmail(event, settingsUrl)
        : event.type === 'sso.recovery.used'
          ? renderRecoveryEmail(event, settingsUrl)
          : renderSetupLinkEmail(event, settingsUrl)
    return event.notify.map((recipient) => ({
      eventId: event.id,
      queue: deps.mailQueue,
      recipient,
      subject: rendered.subject,
      textBody: rendered.text,
      htmlBody: rendered.html,
    }))
  }
}
