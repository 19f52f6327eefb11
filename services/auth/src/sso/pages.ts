// The pages a browser lands on at the ACS: a refusal that says what happened and what to do, or
// the confirmation of an unsolicited sign-in. Plain, self-contained HTML; JSON clients get the
// same `code` and message (or the confirmation's fields) instead.
import { escapeHtml } from '@gatehouse/server'

const titles: Record<string, string> = {
  sso_not_allowed: 'You cannot use SSO for this workspace yet',
  email_unconfirmed: 'Confirm your email address first',
  saml_invalid: 'Your sign-in could not be verified',
  saml_replayed: 'This sign-in link was already used',
  sso_disabled: 'SSO is turned off',
  not_found: 'This SSO connection does not exist',
  rate_limited: 'Too many attempts',
}

export function refusalPage(input: { code: string; message: string; reason?: string; loginUrl: string }): string {
  const title = titles[input.code] ?? 'Sign-in failed'
  const reason = input.reason ? `<p class="reason">Reference: <code>${escapeHtml(input.reason)}</code></p>` : ''
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p data-code="${escapeHtml(input.code)}">${escapeHtml(input.message)}</p>
${reason}
<p><a href="${escapeHtml(input.loginUrl)}">Back to sign in</a></p>`,
  )
}

/**
 * Where an unsolicited (IdP-initiated) response ends: the person sees who they would continue as
 * and into which workspace, and only their own POST from this page (same origin, so it passes the
 * Origin guard) signs them in. A cross-site page that auto-submits a response therefore cannot
 * switch a browser to someone else's account or add a workspace unseen (login CSRF).
 */
export function confirmationPage(input: {
  email: string
  workspaceName: string
  action: string
  confirmation: string
}) {
  const title = 'Confirm your sign-in'
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>Your identity provider signed you in to <strong>${escapeHtml(input.workspaceName)}</strong> as
<strong>${escapeHtml(input.email)}</strong>. It can sign you in to this workspace only.</p>
<p>Continue as ${escapeHtml(input.email)} into ${escapeHtml(input.workspaceName)}?</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="confirmation" value="${escapeHtml(input.confirmation)}">
<div class="actions">
<button type="submit" autofocus>Continue as ${escapeHtml(input.email)}</button>
<a href="/">Cancel</a>
</div>
</form>
<p class="reason">If you did not just start this sign-in, choose Cancel: someone may be trying to sign you in to their account.</p>`,
  )
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:34rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0}.reason{color:#5a6272;font-size:.9rem}
a{color:#1846c7}a:focus,button:focus{outline:3px solid #1846c7;outline-offset:2px}
.actions{display:flex;gap:1rem;align-items:center;margin:1.5rem 0}
button{font:inherit;background:#1846c7;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;cursor:pointer}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`
}
