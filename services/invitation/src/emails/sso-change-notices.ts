import {
  type SsoCertificateExpiring,
  type SsoConnectionChanged,
  type SsoFirstSignIn,
  type SsoMetadataProblem,
  type SsoRecoveryUsed,
  type SsoSetupLinkUsed,
  type Subscription,
  subscribe,
} from '@gatehouse/events'
import type { TokenSeal } from '@gatehouse/server/sealed-token'
import type { FastifyBaseLogger } from 'fastify'
import type { InvitationDatabase } from '../db/database.ts'
import { type Notice, writeNotice } from './notices.ts'
import {
  renderCertificateExpiringEmail,
  renderFirstSignInEmail,
  renderMetadataProblemEmail,
  renderRecoveryEmail,
  renderSetupLinkEmail,
  renderSsoChangeEmail,
} from './sso-change-email.ts'

type SsoNotice = SsoConnectionChanged | SsoRecoveryUsed | SsoMetadataProblem | SsoCertificateExpiring | SsoSetupLinkUsed
const noticeTypes = new Set<string>([
  'sso.connection.changed',
  'sso.recovery.used',
  'sso.metadata.problem',
  'sso.certificate.expiring',
  'sso.setup_link.used',
])

/** The subscriber group of the auth stream whose events this service mails about. */
export const ssoNoticesGroup = 'invitation-sso-notices'

/**
 * Mails the owners of a workspace about each `sso.connection.changed` and `sso.metadata.problem` auth
 * announces (the other owners and the admins about each `sso.recovery.used`, the owners and admins
 * about each `sso.certificate.expiring`, the owner who made a setup link about each
 * `sso.setup_link.used`, and the person about each `sso.first_sign_in`, with the link that ends
 * that session), through this
 * service's email outbox and sender (the one the invitation emails use). At least once and
 * idempotent: a redelivered event finds its messages already written (one per event and recipient).
 */
export async function startSsoChangeNotices(deps: {
  db: InvitationDatabase
  redisUrl: string
  publicUrl: URL
  mailQueue: string
  /** Opens the end link `sso.first_sign_in` carries sealed. */
  seal: TokenSeal
  wakeEmails: () => void
  log: FastifyBaseLogger
  now: () => Date
}): Promise<Subscription> {
  return subscribe({ redisUrl: deps.redisUrl, group: ssoNoticesGroup, log: deps.log }, async (event) => {
    const notice =
      event.type === 'sso.first_sign_in'
        ? firstSignInNotice(event)
        : noticeTypes.has(event.type)
          ? workspaceNotice(event as SsoNotice)
          : undefined
    if (!notice) return
    const written = await writeNotice(deps.db, deps.mailQueue, notice, deps.now())
    if (written > 0) deps.wakeEmails()
  })

  function firstSignInNotice(event: SsoFirstSignIn): Notice | undefined {
    const token = deps.seal.open(event.endLink, event.sessionId)
    if (!token || !/^[\w-]{43}$/.test(token)) {
      // Sealed under another INTERNAL_TOKEN (a rotation between the sign-in and now): no usable link.
      deps.log.warn({ eventId: event.id }, 'sso.first_sign_in: the end link could not be opened; no email')
      return undefined
    }
    const endLink = new URL(`/end-session#token=${token}`, deps.publicUrl).href
    return { eventId: event.id, recipients: [event.email], email: renderFirstSignInEmail(event, endLink) }
  }

  function workspaceNotice(event: SsoNotice): Notice {
    const settingsUrl = new URL(`/workspaces/${event.workspaceId}/sso`, deps.publicUrl).href
    const email =
      event.type === 'sso.connection.changed'
        ? renderSsoChangeEmail(event, settingsUrl)
        : event.type === 'sso.recovery.used'
          ? renderRecoveryEmail(event, settingsUrl)
          : event.type === 'sso.metadata.problem'
            ? renderMetadataProblemEmail(event, settingsUrl)
            : event.type === 'sso.certificate.expiring'
              ? renderCertificateExpiringEmail(event, settingsUrl)
              : renderSetupLinkEmail(event, settingsUrl)
    return { eventId: event.id, recipients: event.notify, email }
  }
}
