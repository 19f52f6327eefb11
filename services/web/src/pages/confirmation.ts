import { escapeHtml } from '@gatehouse/server/html'
import { renderPage } from './layout.ts'

/**
 * Where an unsolicited (IdP-initiated) SAML response, or the answer to a sign-in another site
 * started, ends in a browser: who the identity provider
 * would sign in, and into which workspace. Only the person's own click posts the confirmation,
 * from this origin (auth's Origin guard refuses any other), so a cross-site page that auto-submits
 * a response cannot switch the browser to another account or add a workspace unseen (login CSRF).
 * No script: the button has focus, Enter confirms, Tab reaches Cancel.
 */
export function confirmationPage(input: {
  email: string
  workspaceName: string
  action: string
  confirmation: string
}) {
  const email = escapeHtml(input.email)
  const workspace = escapeHtml(input.workspaceName)
  return renderPage({
    title: 'Confirm your sign-in',
    body: `<section class="card" aria-labelledby="confirm-title">
<h1 id="confirm-title">Continue as ${email} into ${workspace}?</h1>
<p>${workspace}’s identity provider signed you in as <strong>${email}</strong>. It can sign you in to ${workspace} only.</p>
<form method="post" action="${escapeHtml(input.action)}" id="confirm-form">
<input type="hidden" name="confirmation" value="${escapeHtml(input.confirmation)}">
<p class="actions"><button type="submit" autofocus>Continue as ${email}</button> <a class="button secondary" href="/">Cancel</a></p>
</form>
<p class="muted">If you did not just start this sign-in, choose Cancel: someone may be trying to sign you in to their account.</p>
</section>`,
  })
}
