import type { ParsedAuthnRequest } from './authn-request.ts'
import type { DevIdp } from './idp.ts'
import type { RegisteredApplication, RememberedUser } from './registry.ts'

export type RequestBinding = 'redirect' | 'post'

const developmentNotice = 'Gatehouse dev IdP — an imitation of Microsoft Entra ID, for development and tests only.'

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character,
  )
}

// Served with a per-response nonce (see app.ts), so the CSP needs no 'unsafe-inline'.
const styles = `
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f5f6f8}
main{max-width:52rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.notice{background:#fff4ce;border-bottom:1px solid #e0c36a;padding:.5rem 1.5rem;margin:0;font-size:.9rem}
section{background:#fff;border:1px solid #d6d9de;border-radius:6px;padding:1rem 1.25rem;margin:1rem 0}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=email],input[type=url],textarea{width:100%;box-sizing:border-box;padding:.45rem;border:1px solid #8a8f98;border-radius:4px;font:inherit}
textarea{font-family:ui-monospace,monospace;font-size:.8rem;height:9rem}
button{margin-top:.9rem;padding:.5rem 1rem;border:0;border-radius:4px;background:#0f6cbd;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#5c6370}
.error{background:#fde7e9;border:1px solid #d13438;padding:.75rem;border-radius:4px}
.saved{background:#dff6dd;border:1px solid #107c10;padding:.75rem;border-radius:4px}
.copyable{display:flex;gap:.5rem;align-items:flex-start}.copyable input,.copyable textarea{flex:1}
.copyable button{margin-top:0;background:#fff;color:#0f6cbd;border:1px solid #0f6cbd}
:focus-visible{outline:3px solid #ffbf47;outline-offset:1px}
.muted{color:#5c6370;font-size:.9rem}
ul.choices{list-style:none;padding:0}ul.choices form{display:inline}
`

function layout(title: string, nonce: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} — dev IdP (development and tests only)</title>
<style nonce="${escapeHtml(nonce)}">${styles}</style>
</head>
<body>
<p class="notice" role="note" id="development-notice">${escapeHtml(developmentNotice)}</p>
<main>
${body}
</main>
</body>
</html>
`
}

function errorBox(message: string | undefined): string {
  return message === undefined ? '' : `<p class="error" role="alert" id="form-error">${escapeHtml(message)}</p>`
}

// Entra shows a copy button beside each value to take into the application; so does this page
// (copy.js; without it the field can still be selected and copied by hand).
function copyButton(id: string, label: string): string {
  return `<button type="button" data-copy="${id}" aria-label="Copy ${escapeHtml(label)}">Copy</button>`
}

function readOnlyField(id: string, label: string, value: string): string {
  return `<label for="${id}">${escapeHtml(label)}</label><div class="copyable"><input type="text" id="${id}" value="${escapeHtml(value)}" readonly>${copyButton(id, label)}</div>`
}

export interface HomePageInput {
  idp: DevIdp
  applications: RegisteredApplication[]
  users: RememberedUser[]
  nonce: string
  error?: string
  form?: { identifier?: string; replyUrl?: string }
  /** Set right after an application was saved (the POST redirects here). */
  saved?: boolean
}

/** Entra's enterprise application page: Basic SAML Configuration in, the three values to copy out. */
export function homePage(input: HomePageInput): string {
  const { idp } = input
  const applicationsHtml =
    input.applications.length === 0
      ? '<p class="muted" id="no-applications">No application yet: save one above.</p>'
      : `<ul class="choices" id="applications">${input.applications
          .map((application, index) => applicationItem(application, index, input.users))
          .join('')}</ul>`
  return layout(
    'Enterprise application',
    input.nonce,
    `<h1>Enterprise application — SAML-based sign-on</h1>
<section aria-labelledby="basic-configuration">
<h2 id="basic-configuration">1. Basic SAML Configuration</h2>
${errorBox(input.error)}${
  input.saved
    ? '<p class="saved" role="status" id="saved-message">Saved: the application is listed under 3. Now copy the Login URL, the Microsoft Entra Identifier and the Certificate (Base64) below into the application’s SSO settings.</p>'
    : ''
}
<form method="post" action="/applications">
<label for="identifier">Identifier (Entity ID)</label>
<input type="text" id="identifier" name="identifier" required value="${escapeHtml(input.form?.identifier ?? '')}">
<label for="reply-url">Reply URL (Assertion Consumer Service URL)</label>
<input type="url" id="reply-url" name="replyUrl" required value="${escapeHtml(input.form?.replyUrl ?? '')}">
<button type="submit" id="save-application">Save</button>
</form>
</section>
<section aria-labelledby="set-up">
<h2 id="set-up">2. Set up your application</h2>
${readOnlyField('login-url', 'Login URL', idp.loginUrl)}
${readOnlyField('entra-identifier', 'Microsoft Entra Identifier', idp.entityId)}
${readOnlyField('logout-url', 'Logout URL', idp.logoutUrl)}
${readOnlyField('metadata-url', 'App Federation Metadata Url', idp.metadataUrl)}
<label for="certificate">Certificate (Base64)</label>
<div class="copyable"><textarea id="certificate" readonly>${escapeHtml(idp.certificatePem)}</textarea>${copyButton('certificate', 'Certificate (Base64)')}</div>
<p><a id="certificate-download" href="/certificate.cer" download>Download Certificate (Base64)</a></p>
<p>Federation Metadata XML: <a id="federation-metadata-download" href="/federationmetadata.xml?download=1" download>Download</a></p>
<p role="status" id="copy-status"></p>
</section>
<section aria-labelledby="applications-heading">
<h2 id="applications-heading">3. Applications and test sign-in</h2>
<p class="muted">"Test sign-in" sends an IdP-initiated response (no InResponseTo) to the application's Reply URL.</p>
${applicationsHtml}
</section>
<script src="/copy.js"></script>`,
  )
}

function applicationItem(application: RegisteredApplication, index: number, users: RememberedUser[]): string {
  const user = users[0]
  return `<li data-identifier="${escapeHtml(application.identifier)}">
<section aria-labelledby="application-${index}">
<h3 id="application-${index}">${escapeHtml(application.identifier)}</h3>
<p class="muted">Reply URL: <span id="application-reply-url-${index}">${escapeHtml(application.replyUrl)}</span></p>
<form method="post" action="/test-sign-in" id="test-sign-in-${index}">
<input type="hidden" name="identifier" value="${escapeHtml(application.identifier)}">
<label for="test-email-${index}">Email</label>
<input type="email" id="test-email-${index}" name="email" required value="${escapeHtml(user?.email ?? '')}">
<label for="test-first-name-${index}">First name</label>
<input type="text" id="test-first-name-${index}" name="firstName" value="${escapeHtml(user?.firstName ?? '')}">
<label for="test-last-name-${index}">Last name</label>
<input type="text" id="test-last-name-${index}" name="lastName" value="${escapeHtml(user?.lastName ?? '')}">
<button type="submit" id="test-sign-in-button-${index}">Test sign-in</button>
</form>
<form method="post" action="/applications/remove">
<input type="hidden" name="identifier" value="${escapeHtml(application.identifier)}">
<button type="submit" class="secondary" id="remove-application-${index}">Remove</button>
</form>
</section>
</li>`
}

export interface SignInPageInput {
  idp: DevIdp
  application: RegisteredApplication
  request: ParsedAuthnRequest
  samlRequest: string
  binding: RequestBinding
  users: RememberedUser[]
  nonce: string
  error?: string
  /** Entra's `login_hint`: pre-fills the email. */
  loginHint?: string
}

/** Stands in for Entra's sign-in: no password, the person just says who they are. */
export function signInPage(input: SignInPageInput): string {
  const action = `/${encodeURIComponent(input.idp.tenantId)}/saml2/sign-in`
  const carried = `<input type="hidden" name="SAMLRequest" value="${escapeHtml(input.samlRequest)}">
<input type="hidden" name="binding" value="${input.binding}">${
    input.request.relayState === undefined
      ? ''
      : `\n<input type="hidden" name="RelayState" value="${escapeHtml(input.request.relayState)}">`
  }`
  const remembered =
    input.users.length === 0
      ? ''
      : `<section aria-labelledby="remembered-heading"><h2 id="remembered-heading">Pick an account</h2><ul class="choices" id="remembered-users">${input.users
          .map(
            (user, index) => `<li><form method="post" action="${action}">${carried}
<input type="hidden" name="email" value="${escapeHtml(user.email)}">
<input type="hidden" name="firstName" value="${escapeHtml(user.firstName ?? '')}">
<input type="hidden" name="lastName" value="${escapeHtml(user.lastName ?? '')}">
<button type="submit" id="remembered-user-${index}">Sign in as ${escapeHtml(user.email)}${
              user.firstName || user.lastName
                ? ` (${escapeHtml([user.firstName, user.lastName].filter(Boolean).join(' '))})`
                : ''
            }</button>
</form></li>`,
          )
          .join('')}</ul></section>`
  return layout(
    'Sign in',
    input.nonce,
    `<h1>Sign in</h1>
<p>to <strong id="application-identifier">${escapeHtml(input.application.identifier)}</strong></p>
${remembered}
<section aria-labelledby="other-account">
<h2 id="other-account">${input.users.length === 0 ? 'Your account' : 'Use another account'}</h2>
${errorBox(input.error)}
<form method="post" action="${action}">
${carried}
<label for="email">Email</label>
<input type="email" id="email" name="email" required autocomplete="username" value="${escapeHtml(input.loginHint ?? '')}">
<label for="first-name">First name</label>
<input type="text" id="first-name" name="firstName" autocomplete="given-name">
<label for="last-name">Last name</label>
<input type="text" id="last-name" name="lastName" autocomplete="family-name">
<button type="submit" id="sign-in">Sign in</button>
</form>
</section>`,
  )
}

export interface RefusalPageInput {
  /** Entra's error code, shown the way Entra shows it (e.g. AADSTS700016). */
  code: string
  title: string
  message: string
  requestId: string
  /** ISO 8601, UTC. */
  timestamp: string
  nonce: string
}

/** Laid out as Entra's sign-in error page: the apology, the AADSTS code and message, troubleshooting details. */
export function refusalPage(input: RefusalPageInput): string {
  return layout(
    input.title,
    input.nonce,
    `<h1>Sorry, but we’re having trouble signing you in.</h1>
<h2>${escapeHtml(input.title)}</h2>
<p class="error" role="alert" id="error-message"><strong id="error-code">${escapeHtml(input.code)}</strong>: ${escapeHtml(input.message)}</p>
<section aria-labelledby="troubleshooting">
<h2 id="troubleshooting">Troubleshooting details</h2>
<p>Request Id: <span id="request-id">${escapeHtml(input.requestId)}</span><br>
Timestamp: <span id="timestamp">${escapeHtml(input.timestamp)}</span></p>
</section>
<p><a href="/">Back to the enterprise application page</a></p>`,
  )
}

export interface AutoPostPageInput {
  acsUrl: string
  samlResponse: string
  relayState?: string
  nonce: string
}

/** The HTTP-POST binding (saml-bindings §3.5.4): a form the browser submits to the Reply URL. */
export function autoPostPage(input: AutoPostPageInput): string {
  const relayState =
    input.relayState === undefined
      ? ''
      : `\n<input type="hidden" name="RelayState" value="${escapeHtml(input.relayState)}">`
  return layout(
    'Signing you in',
    input.nonce,
    `<h1>Signing you in…</h1>
<form method="post" action="${escapeHtml(input.acsUrl)}" id="saml-post-form">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(input.samlResponse)}">${relayState}
<p class="muted">If nothing happens, press Continue.</p>
<button type="submit" id="continue">Continue</button>
</form>
<script src="/auto-post.js"></script>`,
  )
}

/** The auto-post script, served from its own route so the CSP can stay at script-src 'self'. */
export const autoPostScript = "document.getElementById('saml-post-form').submit()\n"

/** The home page's copy buttons; the clipboard can be refused, then the value is selected for Ctrl-C. */
export const copyScript = `for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.getElementById(button.dataset.copy)
    const label = document.querySelector('label[for="' + field.id + '"]').textContent
    const status = document.getElementById('copy-status')
    try {
      await navigator.clipboard.writeText(field.value)
      status.textContent = label + ' copied.'
    } catch {
      field.focus()
      field.select()
      status.textContent = label + ' is selected: press Ctrl-C (⌘-C) to copy it.'
    }
  })
}
`
