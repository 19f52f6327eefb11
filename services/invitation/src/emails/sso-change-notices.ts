import { type SsoConnectionChanged, type Subscription, subscribe } from '@gatehouse/events'
import type { FastifyBaseLogger } from 'fastify'
import type { InvitationDatabase } from '../db/database.ts'
import { insertNotices } from './repo.ts'
import { renderSsoChangeEmail } from './sso-change-email.ts'

/** The subscriber group of the auth stream whose events this service mails about. */
export const ssoNoticesGroup = 'invitation-sso-notices'

/**
 * Mails the owners of a workspace about each `sso.connection.changed` auth announces, through this
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
    if (event.type !== 'sso.connection.changed') return
    const written = await insertNotices(deps.db, noticesFor(event), deps.now())
    if (written > 0) deps.wakeEmails()
  })

  function noticesFor(event: SsoConnectionChanged) {
    const settingsUrl = new URL(`/workspaces/${event.workspaceId}/sso`, deps.publicUrl).href
    const rendered = renderSsoChangeEmail(event, settingsUrl)
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
