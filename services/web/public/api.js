// What every page script shares: calls to the API through the same-origin gateway, showing the
// API's own `message` on failure, and the account area of the top bar.
import { sameOriginPath } from './return-to.js'

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.message === 'string' ? body.message : `The request failed (${status}).`)
    this.status = status
    this.code = typeof body?.error === 'string' ? body.error : 'request_failed'
    this.fields = body && typeof body.fields === 'object' && body.fields !== null ? body.fields : {}
  }
}

// Sent with every call: a setup link's token on the setup page (it reaches nothing else).
const extraHeaders = {}

/** Calls the API as the holder of a setup link (the /setup page): `x-setup-token` on every call. */
export function useSetupToken(token) {
  extraHeaders['x-setup-token'] = token
}

/**
 * The token a link carries in its fragment (`/reset#token=…`): read on the first load, then dropped
 * from the address bar, so neither history nor a shared screen keeps it, and kept for this tab
 * under `key` (a reload, or the page reloading itself after a sign-out, still has it). The fragment
 * never reaches a server log.
 */
export function tokenFromLink(key) {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('token')
  if (fromLink) {
    sessionStorage.setItem(key, fromLink)
    history.replaceState(null, '', location.pathname)
  }
  return sessionStorage.getItem(key)
}

/** Calls the API; resolves with the parsed JSON body (or null), rejects with ApiError. */
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json', ...extraHeaders } }
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(path, init)
  } catch {
    throw new ApiError(0, { error: 'network_error', message: 'Gatehouse cannot be reached. Check your connection.' })
  }
  const text = await response.text()
  let parsed = null
  if (text) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = null
    }
  }
  if (!response.ok) throw new ApiError(response.status, parsed)
  // A sign-in or sign-out on this page changes what the page was told at load (`data-signed-in`).
  const main = document.getElementById('main')
  if (main && ['/v1/auth/signup', '/v1/auth/login'].includes(path)) main.dataset.signedIn = 'true'
  if (main && path === '/v1/auth/logout') main.dataset.signedIn = 'false'
  return parsed
}

/** The signed-in session (`{user, memberships}`), or null when nobody is signed in. */
export async function currentSession() {
  // The page knows when the browser holds no session cookie at all: nothing to ask (and no 401).
  if (document.getElementById('main')?.dataset.signedIn === 'false') return null
  try {
    return await api('GET', '/v1/auth/session')
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null
    throw error
  }
}

/**
 * Auth records a membership when it processes `invitation.accepted` from the queue: waits (up to
 * 10 s) until the session shows one that `matches` with SSO allowed, so that "you can use SSO" is
 * true when a page says it. Resolves with whether it did.
 */
export async function waitForMembership(matches) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const session = await currentSession().catch(() => null)
    if (session?.memberships.some((membership) => matches(membership) && membership.ssoAllowed)) return true
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

/** Sends people who are not signed in to the login page, coming back here afterwards. */
export function goToLogin() {
  const returnTo = location.pathname + location.search
  location.assign(`/login?returnTo=${encodeURIComponent(returnTo)}`)
}

/** A same-origin path to go to after signing in, or the fallback (never another site): auth's own rule. */
export function safeReturnTo(value, fallback = '/') {
  return sameOriginPath(value, location.origin) ?? fallback
}

/** Creates an element: `element('a', { href: '/' }, 'Home')`. Text is always set as text, never as HTML. */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === undefined || value === null) continue
    node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) node.append(child)
  return node
}

export function show(id, visible = true) {
  const node = document.getElementById(id)
  if (node) node.hidden = !visible
}

export function setText(id, text) {
  const node = document.getElementById(id)
  if (node) node.textContent = text
}

/**
 * Fills the top bar: who is signed in, their password page and a sign-out button; and, while the
 * account's address is unproven, a notice at the top of the page saying how to confirm it.
 */
export function renderAccount(session) {
  const nav = document.getElementById('account')
  if (!nav) return
  nav.replaceChildren()
  if (!session) {
    nav.append(element('a', { href: '/login' }, 'Sign in'))
    return
  }
  const signOut = element('button', { type: 'button', class: 'link', id: 'sign-out' }, 'Sign out')
  signOut.addEventListener('click', async () => {
    await api('POST', '/v1/auth/logout').catch(() => null)
    location.assign('/login')
  })
  const passwordLink = element('a', { href: '/account/password', id: 'password-link' }, 'Password')
  nav.append(element('span', { id: 'signed-in-as' }, session.user.email), ' ', passwordLink, ' ', signOut)
  if (
    session.user.emailConfirmed === false &&
    location.pathname !== '/confirm' &&
    !document.getElementById('unconfirmed')
  ) {
    const notice = element(
      'p',
      { class: 'notice', id: 'unconfirmed' },
      'Confirm your email address to join workspaces and sign in with SSO: open the link we emailed you. ',
      element('a', { href: '/confirm' }, 'Email me a new link'),
    )
    document.getElementById('main')?.prepend(notice)
  }
}

/**
 * Runs `submit(values)` when the form is sent: the button is disabled meanwhile, and an ApiError's
 * message goes to the form's alert region, with per-field messages beside their fields.
 */
export function handleForm(form, submit) {
  const alert = form.querySelector('[role="alert"]')
  const button = form.querySelector('button[type="submit"]')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearFieldErrors(form)
    if (alert) alert.textContent = ''
    if (button) button.disabled = true
    try {
      await submit(Object.fromEntries(new FormData(form)))
    } catch (error) {
      const message = error instanceof Error ? error.message : 'Something went wrong.'
      // Each error once: beside its field when it has one, else in the form's alert.
      const besideFields = error instanceof ApiError ? showFieldErrors(form, error.fields) : 0
      if (besideFields > 0) return
      if (alert) alert.textContent = message
      else throw error
    } finally {
      if (button) button.disabled = false
    }
  })
}

function clearFieldErrors(form) {
  for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid')
  for (const message of form.querySelectorAll('.field-error')) message.textContent = ''
}

/** Puts each field's message beside it; returns how many were placed. */
function showFieldErrors(form, fields) {
  let first = null
  let placed = 0
  for (const [name, message] of Object.entries(fields)) {
    const field = form.elements.namedItem(name)
    if (!(field instanceof HTMLElement)) continue
    field.setAttribute('aria-invalid', 'true')
    const describedBy = (field.getAttribute('aria-describedby') ?? '').split(' ')
    const slot = describedBy
      .map((id) => document.getElementById(id))
      .find((node) => node?.classList.contains('field-error'))
    if (!slot) continue
    slot.textContent = String(message)
    placed++
    first ??= field
  }
  first?.focus()
  return placed
}

/**
 * Asks before a destructive action, in a modal dialog (focus moves into it and Escape cancels;
 * Cancel has the focus, so Enter alone never confirms). Resolves true when confirmed.
 */
export function confirmAction({ title, message, confirmLabel }) {
  return new Promise((resolve) => {
    const confirm = element('button', { type: 'button', class: 'danger', id: 'confirm-yes' }, confirmLabel)
    const cancel = element('button', { type: 'button', class: 'secondary', id: 'confirm-cancel' }, 'Cancel')
    const dialog = element(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' },
      element('h2', { id: 'confirm-title' }, title),
      element('p', { id: 'confirm-message' }, message),
      element('p', { class: 'actions' }, confirm, cancel),
    )
    const opener = document.activeElement
    const finish = (answer) => {
      dialog.close()
      dialog.remove()
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus()
      resolve(answer)
    }
    confirm.addEventListener('click', () => finish(true))
    cancel.addEventListener('click', () => finish(false))
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      finish(false)
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}

/**
 * A small button for one row's action, named for the row (a screen reader hears "Remove
 * ada@example.com"): disabled while `action` runs, its failure shown once in `errorId`'s region.
 */
export function rowButton(label, subject, action, { errorId, className = 'secondary small' }) {
  const button = element('button', { type: 'button', class: className, 'aria-label': `${label} ${subject}` }, label)
  button.addEventListener('click', async () => {
    setText(errorId, '')
    const hadFocus = document.activeElement === button
    button.disabled = true
    try {
      await action()
    } catch (error) {
      setText(errorId, error instanceof Error ? error.message : 'Something went wrong.')
    } finally {
      button.disabled = false
      // Disabling dropped the focus: a keyboard user carries on from the same button.
      if (hadFocus && button.isConnected && document.activeElement === document.body) button.focus()
    }
  })
  return button
}

// IdP signing certificates last a few years (Entra: 3). The owners and admins are emailed 30, 7
// and 1 days before one ends; the SSO and workspace pages say it from 30 days before.
const expiryWarningDays = 30
const dayMs = 86_400_000

/**
 * What to do about each IdP certificate that ends within 30 days (or has ended), one sentence
 * each: add the new certificate beside it, or, once one that outlasts it is there, remove it.
 * `possessive` names the IdP ("Microsoft Entra’s"); `addWhere` and `removeWhere` say where.
 */
export function certificateExpiryNotes(certificates, { possessive, addWhere, removeWhere }, now = Date.now()) {
  const msLeft = (certificate) => new Date(certificate.notAfter).getTime() - now
  const outlasted = certificates.some((certificate) => msLeft(certificate) >= expiryWarningDays * dayMs)
  return certificates
    .filter((certificate) => msLeft(certificate) < expiryWarningDays * dayMs)
    .map((certificate) => {
      const subject = `The signing certificate ${certificate.fingerprintSha256.slice(0, 11)}…`
      const date = new Date(certificate.notAfter).toUTCString()
      const daysLeft = Math.ceil(msLeft(certificate) / dayMs)
      const when =
        daysLeft <= 0 ? `expired on ${date}` : `expires on ${date}, in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`
      if (outlasted) {
        return `${subject} ${when}; a newer certificate is beside it. Once the latest sign-in was signed by the new one, remove this one ${removeWhere}.`
      }
      if (daysLeft <= 0) {
        return `${subject} ${when}: sign-ins it signs are refused. Add ${possessive} new certificate beside it ${addWhere}, then remove the expired one.`
      }
      return `${subject} ${when}: after that, sign-ins it signs are refused. Before then, add ${possessive} new certificate beside it ${addWhere} (sign-ins signed with either are accepted), switch the identity provider to the new one, then remove this one.`
    })
}
