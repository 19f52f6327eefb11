// The mails about a person's own account, in the invitation email's plain style (text and HTML).
import type { LinkIssued, PasswordChanged, PasswordReset } from '@gatehouse/events'
import { escapeHtml } from '@gatehouse/server/html'
import type { RenderedEmail } from './invitation-email.ts'

const htmlPage = (paragraphs: string[]) => `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
${paragraphs.join('\n')}
</body></html>
`
const formatTime = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`

/** A confirmation or reset link; `link` carries the token in its fragment (`/confirm#token=…`, `/reset#token=…`). */
export function renderLinkEmail(event: LinkIssued, link: string): RenderedEmail {
  const expires = formatTime(event.expiresAt)
  if (event.purpose === 'confirm_email') {
    const subject = 'Confirm your email address for Gatehouse'
    const text = [
      `Someone (we hope you) created a Gatehouse account with ${event.email}.`,
      '',
      'Confirm that this address is yours:',
      link,
      '',
      `The link works once, until ${expires}. Until the address is confirmed, the account cannot join workspaces or sign in with SSO.`,
      '',
      'If you did not create this account, the same link lets you take the address back: choose a new password there, and whoever made the account is signed out.',
    ].join('\n')
    const html = htmlPage([
      `<p>Someone (we hope you) created a Gatehouse account with <strong>${escapeHtml(event.email)}</strong>.</p>`,
      `<p><a href="${escapeHtml(link)}">Confirm that this address is yours</a></p>`,
      `<p>The link works once, until ${escapeHtml(expires)}. Until the address is confirmed, the account cannot join workspaces or sign in with SSO.</p>`,
      '<p style="color: #666">If you did not create this account, the same link lets you take the address back: choose a new password there, and whoever made the account is signed out.</p>',
    ])
    return { subject, text, html }
  }
  const subject = 'Reset your Gatehouse password'
  const text = [
    `Someone asked to reset the password of the Gatehouse account ${event.email}.`,
    '',
    'Choose a new password:',
    link,
    '',
    `The link works once, until ${expires}. Choosing a new password signs the account out everywhere.`,
    '',
    'If you did not ask for this, ignore this email: your password stays as it is.',
  ].join('\n')
  const html = htmlPage([
    `<p>Someone asked to reset the password of the Gatehouse account <strong>${escapeHtml(event.email)}</strong>.</p>`,
    `<p><a href="${escapeHtml(link)}">Choose a new password</a></p>`,
    `<p>The link works once, until ${escapeHtml(expires)}. Choosing a new password signs the account out everywhere.</p>`,
    '<p style="color: #666">If you did not ask for this, ignore this email: your password stays as it is.</p>',
  ])
  return { subject, text, html }
}

/** The notice of a changed password (reset by link, reclaimed, or changed while signed in). */
export function renderPasswordChangedEmail(event: PasswordReset | PasswordChanged, forgotUrl: string): RenderedEmail {
  const when = formatTime(event.occurredAt)
  const how =
    event.type === 'auth.password.changed'
      ? 'was changed by someone signed in to it, who gave the current password. The account’s other sessions were signed out.'
      : event.reclaimed
        ? 'was set through a link mailed to this address, and the account now counts this address as confirmed. Whoever had created the account without confirming it was signed out.'
        : 'was reset through a link mailed to this address. Every session of the account was signed out.'
  const subject = 'Your Gatehouse password was changed'
  const summary = `The password of your Gatehouse account ${event.email} ${how}`
  const detail = `When: ${when}. From: ${event.ip}.`
  const text = [
    summary,
    detail,
    '',
    'If this was not you, reset your password now and tell your workspace admins:',
    forgotUrl,
  ].join('\n')
  const html = htmlPage([
    `<p>${escapeHtml(summary)}</p>`,
    `<p>${escapeHtml(detail)}</p>`,
    `<p>If this was not you, <a href="${escapeHtml(forgotUrl)}">reset your password now</a> and tell your workspace admins.</p>`,
  ])
  return { subject, text, html }
}
