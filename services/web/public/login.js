import { api, currentSession, element, handleForm, renderAccount, safeReturnTo, setText, show } from './api.js'

const returnTo = safeReturnTo(new URLSearchParams(location.search).get('returnTo'), '')

handleForm(document.getElementById('login-form'), async ({ email, password }) => {
  await api('POST', '/v1/auth/login', { email, password })
  location.assign(returnTo || '/')
})

const ssoStart = document.getElementById('sso-start')
const ssoEmail = document.getElementById('sso-email')
ssoStart.addEventListener('click', () => {
  const opening = document.getElementById('sso-form').hidden
  show('sso-form', opening)
  ssoStart.setAttribute('aria-expanded', String(opening))
  if (!opening) return
  ssoEmail.value ||= document.getElementById('login-email').value
  ssoEmail.focus()
})

// The IdP sends people back to the page they asked for, or to the workspace they chose; the typed
// email goes along as a hint the IdP may pre-fill its sign-in page with.
function ssoLoginHref(connection, email) {
  const url = new URL(connection.loginUrl, location.origin)
  url.searchParams.set('returnTo', returnTo || `/workspaces/${connection.workspaceId}`)
  url.searchParams.set('loginHint', email)
  return url.href
}

handleForm(document.getElementById('sso-form'), async ({ email }) => {
  const choices = document.getElementById('sso-choices')
  choices.replaceChildren()
  show('sso-choices', false)
  setText('sso-status', '')
  const { connections } = await api('POST', '/v1/auth/sso/discover', { email })
  if (connections.length === 0) {
    setText(
      'sso-status',
      `No workspace lets ${email} sign in with SSO yet. If you were invited, open the invitation email, create your account with a password and accept the invitation first; otherwise sign in with your password.`,
    )
    return
  }
  if (connections.length === 1) {
    setText('sso-status', `Taking you to ${connections[0].workspaceName}’s identity provider…`)
    location.assign(ssoLoginHref(connections[0], email))
    return
  }
  setText('sso-status', 'Choose the workspace to sign in to.')
  for (const connection of connections) {
    choices.append(
      element(
        'li',
        {},
        element('a', { class: 'button secondary', href: ssoLoginHref(connection, email) }, connection.workspaceName),
      ),
    )
  }
  show('sso-choices')
  choices.querySelector('a')?.focus()
})

currentSession().then(renderAccount, () => renderAccount(null))
