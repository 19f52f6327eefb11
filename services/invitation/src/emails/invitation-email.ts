import { escapeHtml } from '@gatehouse/server/html'
export interface InvitationEmailInput {
  workspaceName: string
  inviterEmail: string
  role: 'member' | 'admin'
  /** `PUBLIC_URL/invite#token=…`: the token rides in the fragment, which browsers never send to a server. */
  link: string
  expiresAt: Date
}

export interface RenderedEmail {
  subject: string
  text: string
  html: string
}

/** The invitation email, as plain text and HTML; every value from a person is escaped in the HTML. */
export function renderInvitationEmail(input: InvitationEmailInput): RenderedEmail {
  // A workspace name is whatever its owner typed: keep it to one line in the subject.
  const workspace = input.workspaceName.replace(/\s+/g, ' ').trim().slice(0, 100)
  const expires = formatExpiry(input.expiresAt)
  const article = input.role === 'admin' ? 'an admin' : 'a member'
  const subject = `${input.inviterEmail} invited you to ${workspace} on Gatehouse`
  const text = [
    `${input.inviterEmail} invited you to join the workspace "${workspace}" on Gatehouse as ${article}.`,
    '',
    'Accept the invitation (sign up with a password using this email address, then accept):',
    input.link,
    '',
    `The invitation expires on ${expires}. Once you accept, ${workspace}'s identity provider will be able to sign you in to ${workspace}.`,
    '',
    'If you did not expect this invitation, ignore this email.',
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${escapeHtml(input.inviterEmail)} invited you to join the workspace <strong>${escapeHtml(workspace)}</strong> on Gatehouse as ${article}.</p>
<p><a href="${escapeHtml(input.link)}">Accept the invitation</a></p>
<p>Sign up with a password using this email address, then accept. The invitation expires on ${escapeHtml(expires)}.
Once you accept, ${escapeHtml(workspace)}'s identity provider will be able to sign you in to ${escapeHtml(workspace)}.</p>
<p style="color: #666">If you did not expect this invitation, ignore this email.</p>
</body></html>
`
  return { subject, text, html }
}

function formatExpiry(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
