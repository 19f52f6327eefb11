// The pages a browser lands on when SSO refuses someone: plain, self-contained HTML that says
// what happened and what to do. JSON clients get the same `code` and message instead.
import { escapeHtml } from '@gatehouse/server'

const titles: Record<string, string> = {
  sso_not_allowed: 'You cannot use SSO for this workspace yet',
  saml_invalid: 'Your sign-in could not be verified',
  saml_replayed: 'This sign-in link was already used',
  sso_disabled: 'SSO is turned off',
  not_found: 'This SSO connection does not exist',
  rate_limited: 'Too many attempts',
}

export function refusalPage(input: { code: string; message: string; reason?: string; loginUrl: string }): string {
  const title = titles[input.code] ?? 'Sign-in failed'
  const reason = input.reason ? `<p class="reason">Reference: <code>${escapeHtml(input.reason)}</code></p>` : ''
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
a{color:#1846c7}a:focus{outline:3px solid #1846c7;outline-offset:2px}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p data-code="${escapeHtml(input.code)}">${escapeHtml(input.message)}</p>
${reason}
<p><a href="${escapeHtml(input.loginUrl)}">Back to sign in</a></p>
</main>
</body>
</html>`
}
