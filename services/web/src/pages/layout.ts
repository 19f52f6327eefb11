// The HTML shell every page shares. Pages are markup plus one module script served from
// /assets: no inline script or handler, so the Content-Security-Policy can stay `script-src 'self'`.
import { escapeHtml } from '@gatehouse/server/html'

export interface PageInput {
  title: string
  /** File name under /assets (a module script), if the page has behaviour. */
  script?: string
  /** Trusted markup: built from constants, with every variable part passed through escapeHtml. */
  body: string
  /** data-* attributes for <main>, read by the page's script (values are escaped). */
  data?: Record<string, string>
}

/** Whether the request carries a session cookie at all (pages then skip asking who is signed in). */
export function signedInHint(cookieHeader: string | undefined): { 'signed-in': 'true' | 'false' } {
  return { 'signed-in': /(?:^|;\s*)session=[^;]/.test(cookieHeader ?? '') ? 'true' : 'false' }
}

export function renderPage(input: PageInput): string {
  const data = Object.entries(input.data ?? {})
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('')
  const script = input.script ? `\n<script type="module" src="/assets/${escapeHtml(input.script)}"></script>` : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(input.title)} · Gatehouse</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/styles.css">${script}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
<a class="brand" href="/">Gatehouse</a>
<nav id="account" aria-label="Account">${input.script ? '' : '<a href="/">Your workspaces</a> <a href="/login">Sign in</a>'}</nav>
</header>
<main id="main" tabindex="-1"${data}>
${input.body}
</main>
</body>
</html>`
}
