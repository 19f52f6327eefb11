import type {
  SsoCertificateExpiring,
  SsoConnectionChanged,
  SsoFirstSignIn,
  SsoMetadataProblem,
  SsoRecoveryUsed,
  SsoSetupLinkUsed,
} from '@gatehouse/events'
import { escapeHtml } from '@gatehouse/server/html'
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
  const how = {
    saml: 'A workspace admin (signed in through the workspace’s SSO)',
    password: 'A workspace admin (signed in with a password)',
    setup_link: 'The holder of a setup link an owner created',
  }[event.actingSession?.method ?? 'password']
  const change =
    event.via === 'metadata_refresh'
      ? `Gatehouse, re-reading the identity provider's metadata URL, ${changes[event.what]} ${workspace}.`
      : `${how} ${changes[event.what]} ${workspace}.`
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

/** The notice the owners get when the IdP's metadata URL cannot be read, or says what a refresh may not apply. */
export function renderMetadataProblemEmail(event: SsoMetadataProblem, settingsUrl: string): RenderedEmail {
  const workspace = event.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const subject =
    event.kind === 'unreadable'
      ? `The identity provider metadata of ${workspace} cannot be read`
      : `The identity provider metadata of ${workspace} changed and was not applied`
  const lead =
    event.kind === 'unreadable'
      ? `Gatehouse could not read the identity provider's metadata URL of ${workspace} (${event.metadataUrl}). Sign-ins keep using the settings saved before; a new signing certificate would not be picked up.`
      : `The identity provider's metadata of ${workspace} (${event.metadataUrl}) changed in a way Gatehouse does not apply on its own.`
  const text = [lead, '', event.message, '', 'Review the SSO settings:', settingsUrl].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${escapeHtml(lead)}</p>
<p>${escapeHtml(event.message)}</p>
<p><a href="${escapeHtml(settingsUrl)}">Review the SSO settings</a>.</p>
</body></html>
`
  return { subject, text, html }
}

/** The notice the owners and admins get 30, 7 and 1 days before an IdP certificate expires. */
export function renderCertificateExpiringEmail(event: SsoCertificateExpiring, settingsUrl: string): RenderedEmail {
  const workspace = event.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const days = event.daysLeft === 1 ? '1 day' : `${event.daysLeft} days`
  const subject = `The SSO certificate of ${workspace} expires within ${days}`
  const lead = `The identity provider's signing certificate of ${workspace} (SHA-256 ${event.fingerprint}) expires on ${new Date(event.notAfter).toUTCString()}, within ${days}. After that, sign-ins it signs are refused.`
  const todo =
    "Add the identity provider's new certificate beside it on the SSO page (Add certificate), switch the identity provider to the new one, then remove the old one."
  const text = [lead, '', todo, settingsUrl].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${escapeHtml(lead)}</p>
<p>${escapeHtml(todo)} <a href="${escapeHtml(settingsUrl)}">Open the SSO settings</a>.</p>
</body></html>
`
  return { subject, text, html }
}

const setupLinkUses: Record<SsoSetupLinkUsed['what'], string> = {
  opened: 'opened the SSO setup of',
  sso_turned_on: 'turned SSO on for',
  test_sign_in: 'ran a test sign-in through the SSO connection of',
}

/** The notice the owner who created a setup link gets for each thing done through it. */
export function renderSetupLinkEmail(event: SsoSetupLinkUsed, settingsUrl: string): RenderedEmail {
  const workspace = event.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const change = `The holder of the setup link you created ${setupLinkUses[event.what]} ${workspace} (from ${event.ip}).`
  const subject = `Your SSO setup link for ${workspace} was used`
  const text = [
    change,
    '',
    `If you did not expect this, revoke the link on the SSO settings page now:`,
    settingsUrl,
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${escapeHtml(change)}</p>
<p>If you did not expect this, <a href="${escapeHtml(settingsUrl)}">revoke the link on the SSO settings page now</a>.</p>
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
