import type { SsoConnectionChanged, SsoFirstSignIn, SsoRecoveryUsed } from '@gatehouse/events'
import { escapeHtml } from '@gatehouse/server'
import type { RenderedEmail } from './invitation-email.ts'

const changes: Record<SsoConnectionChanged['what'], string> = {
  idp_configured: 'set which identity provider (and which signing certificates) can sign people in to',
  certificate_added:
    'added a signing certificate (one more that can sign people in) to the identity provider settings of',
  certificate_removed: 'removed a signing certificate from the identity provider settings of',
  idp_initiated_enabled: 'let the identity provider start sign-ins on its own (IdP-initiated) for',
  enabled: 'turned SSO on for',
  disabled: 'turned SSO off for',
  deleted: 'removed the SSO connection of',
}

/**
 * The notice every owner gets when who the workspace's IdP is, or whether it may sign people in,
 * changes: whoever controls the IdP can sign in as any member of the workspace.
 */
export function renderSsoChangeEmail(event: SsoConnectionChanged, settingsUrl: string): RenderedEmail {
  const workspace = event.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const how =
    event.actingSession.method === 'saml' ? 'signed in through the workspace’s SSO' : 'signed in with a password'
  const change = `A workspace admin (${how}) ${changes[event.what]} ${workspace}.`
  const fingerprints = event.fingerprints?.length
    ? `Certificate fingerprints (SHA-256): ${event.fingerprints.join(', ')}`
    : ''
  const subject = `SSO settings of ${workspace} changed`
  const text = [
    change,
    fingerprints,
    '',
    `The identity provider of ${workspace} can sign anyone in to ${workspace}. If you did not expect this change, review the SSO settings now:`,
    settingsUrl,
  ]
    .filter((line, index) => index !== 1 || line !== '')
    .join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${escapeHtml(change)}</p>
${fingerprints ? `<p><code>${escapeHtml(fingerprints)}</code></p>` : ''}
<p>The identity provider of <strong>${escapeHtml(workspace)}</strong> can sign anyone in to ${escapeHtml(workspace)}.
If you did not expect this change, <a href="${escapeHtml(settingsUrl)}">review the SSO settings now</a>.</p>
</body></html>
`
  return { subject, text, html }
}

/** The notice the other owners and the admins get each time an owner uses the password recovery. */
export function renderRecoveryEmail(event: SsoRecoveryUsed, settingsUrl: string): RenderedEmail {
  const workspace = event.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const subject = `An owner of ${workspace} signed in with a password although SSO is required`
  const text = [
    `An owner of ${workspace} used the password recovery: their password session now reaches ${workspace}, which requires SSO.`,
    '',
    `If this was not expected, review the workspace's SSO settings and members now:`,
    settingsUrl,
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>An owner of <strong>${escapeHtml(workspace)}</strong> used the password recovery: their password session now reaches ${escapeHtml(workspace)}, which requires SSO.</p>
<p>If this was not expected, <a href="${escapeHtml(settingsUrl)}">review the workspace's SSO settings and members now</a>.</p>
</body></html>
`
  return { subject, text, html }
}

/**
 * The email a person gets the first time an IdP (a workspace's connection, at one IdP Entity ID)
 * signs them in: which workspace's IdP it was, from where, and a link that ends that session.
 * `endLink` is `PUBLIC_URL/end-session#token=…` (the token in the fragment, never in a server log).
 */
export function renderFirstSignInEmail(event: SsoFirstSignIn, endLink: string): RenderedEmail {
  const workspace = (event.workspaceName ?? '').replace(/\s+/g, ' ').trim().slice(0, 100) || 'a workspace'
  const idp = event.idpEntityId.replace(/\s+/g, ' ').trim().slice(0, 200)
  const when = `${event.occurredAt.slice(0, 16).replace('T', ' ')} UTC`
  const browser = event.userAgent.replace(/\s+/g, ' ').trim().slice(0, 200) || 'an unknown browser'
  const from = `${event.ip.slice(0, 64)}, ${browser}`
  const subject = `${workspace}'s identity provider signed you in to ${workspace}`
  const text = [
    `The identity provider of the workspace ${workspace} (${idp}) signed you in to ${workspace} on Gatehouse for the first time.`,
    `When: ${when}`,
    `From: ${from}`,
    '',
    `That sign-in reaches ${workspace} only, never your other workspaces or your account.`,
    '',
    'If this was not you, end that session now (the link works once):',
    endLink,
    '',
    `Then tell the owner of ${workspace}: whoever controls its identity provider can sign people in to it.`,
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>The identity provider of the workspace <strong>${escapeHtml(workspace)}</strong> (<code>${escapeHtml(idp)}</code>) signed you in to ${escapeHtml(workspace)} on Gatehouse for the first time.</p>
<p>When: ${escapeHtml(when)}<br>From: ${escapeHtml(from)}</p>
<p>That sign-in reaches ${escapeHtml(workspace)} only, never your other workspaces or your account.</p>
<p>If this was not you, <a href="${escapeHtml(endLink)}">end that session now</a> (the link works once).
Then tell the owner of ${escapeHtml(workspace)}: whoever controls its identity provider can sign people in to it.</p>
</body></html>
`
  return { subject, text, html }
}
