import { escapeHtml } from '@gatehouse/server/html'
import { renderPage } from './layout.ts'

interface RefusalText {
  title: string
  /** What the person can do about it, in order. */
  steps: string[]
}

// One page per SSO refusal (CONTRACT.md's codes): what happened, and what to do next.
const refusals: Record<string, RefusalText> = {
  sso_not_allowed: {
    title: 'You can’t use SSO for this workspace yet',
    steps: [
      'Open the invitation email your workspace admin sent you.',
      'Create your Gatehouse account with a password, using the same email address.',
      'Accept the invitation. From then on, “Sign in with SSO” takes you straight in.',
    ],
  },
  email_unconfirmed: {
    title: 'Confirm your email address first',
    steps: [
      'Open the confirmation link we emailed to this address when the account was made (signed in with your password, your account page sends a new one), or the invitation link you received.',
      'If you did not make the account, the same link lets you choose a new password and take the address back.',
      'Then sign in with SSO again.',
    ],
  },
  saml_invalid: {
    title: 'Your sign-in could not be verified',
    steps: [
      'Start the sign-in again from the sign-in page.',
      'If it happens again, tell your workspace admin the reference below: the SSO settings in Gatehouse and in your identity provider may not match.',
    ],
  },
  saml_replayed: {
    title: 'This sign-in was already used',
    steps: ['Each sign-in from your identity provider works once. Start the sign-in again.'],
  },
  sso_disabled: {
    title: 'SSO is turned off for this workspace',
    steps: ['Sign in with your email and password instead.', 'Ask your workspace admin if SSO should be on.'],
  },
  sso_not_configured: {
    title: 'This SSO connection does not exist',
    steps: ['Ask your workspace admin for the current sign-in link, or sign in with your email and password.'],
  },
  not_found: {
    title: 'This SSO connection does not exist',
    steps: ['Ask your workspace admin for the current sign-in link, or sign in with your email and password.'],
  },
  rate_limited: {
    title: 'Too many attempts',
    steps: ['Wait a minute, then try again.'],
  },
  upstream_unavailable: {
    title: 'Sign-in is unavailable right now',
    steps: ['Try again in a moment.'],
  },
}

const fallback: RefusalText = {
  title: 'Sign-in failed',
  steps: ['Start the sign-in again from the sign-in page.'],
}

/** The page a browser sees when SSO refuses it; `message` is the service's own words, shown as given. */
export function refusalPage(input: { code: string; message?: string; reason?: string }): string {
  const text = refusals[input.code] ?? fallback
  const message = input.message ?? text.title
  const reason = input.reason
    ? `<p class="muted" id="refusal-reason">Reference for your admin: <code>${escapeHtml(input.code)}/${escapeHtml(input.reason)}</code></p>`
    : ''
  return renderPage({
    title: text.title,
    body: `<section class="card" aria-labelledby="refusal-title">
<h1 id="refusal-title">${escapeHtml(text.title)}</h1>
<p class="notice" role="alert" id="refusal-message" data-code="${escapeHtml(input.code)}">${escapeHtml(message)}</p>
<h2>What to do</h2>
<ol id="refusal-steps">${text.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>
${reason}
<p class="actions"><a class="button" href="/login">Back to sign in</a> <a href="/">Your workspaces</a> <a href="/signup">Create an account</a></p>
</section>`,
  })
}
