import type { MembershipRemoved } from '@gatehouse/events'
import { escapeHtml } from '@gatehouse/server/html'
import type { RenderedEmail } from './invitation-email.ts'

/**
 * The person removed from a workspace is told, in the invitation email's plain style: what ended
 * (their access, and sign-in through the workspace's identity provider) and what did not (their
 * Gatehouse account and other workspaces).
 */
export function renderRemovalEmail(event: MembershipRemoved, homeUrl: string): RenderedEmail {
  const workspace = event.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const subject = `You were removed from ${workspace} on Gatehouse`
  const text = [
    `An owner or admin of the workspace "${workspace}" removed you from it. You can no longer open it, and its identity provider can no longer sign you in to it; the sessions it had signed you in with have ended.`,
    '',
    'Your Gatehouse account and your other workspaces are not affected:',
    homeUrl,
    '',
    `If you think this is a mistake, ask an admin of ${workspace} to invite you again.`,
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>An owner or admin of the workspace <strong>${escapeHtml(workspace)}</strong> removed you from it. You can no longer open it, and its identity provider can no longer sign you in to it; the sessions it had signed you in with have ended.</p>
<p>Your Gatehouse account and <a href="${escapeHtml(homeUrl)}">your other workspaces</a> are not affected.</p>
<p style="color: #666">If you think this is a mistake, ask an admin of ${escapeHtml(workspace)} to invite you again.</p>
</body></html>
`
  return { subject, text, html }
}
