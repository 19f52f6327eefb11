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
  const deleted = event.reason === 'workspace_deleted'
  const subject = deleted ? `${workspace} was deleted on Gatehouse` : `You were removed from ${workspace} on Gatehouse`
  // A workspace whose only owner's account turned out not to be its address's owner's goes with it.
  const what = (name: string) =>
    deleted
      ? `The workspace ${name} was deleted: the account that made it had never confirmed its email address, and the address's owner took that account back.`
      : `An owner or admin of the workspace ${name} removed you from it.`
  const consequence =
    'You can no longer open it, and its identity provider can no longer sign you in to it; the sessions it had signed you in with have ended.'
  const text = [
    `${what(`"${workspace}"`)} ${consequence}`,
    '',
    'Your Gatehouse account and your other workspaces are not affected:',
    homeUrl,
    '',
    `If you think this is a mistake, ask an admin of ${workspace} to invite you again.`,
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${what(`<strong>${escapeHtml(workspace)}</strong>`)} ${consequence}</p>
<p>Your Gatehouse account and <a href="${escapeHtml(homeUrl)}">your other workspaces</a> are not affected.</p>
<p style="color: #666">If you think this is a mistake, ask an admin of ${escapeHtml(workspace)} to invite you again.</p>
</body></html>
`
  return { subject, text, html }
}
