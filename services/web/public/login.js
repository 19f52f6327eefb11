import { api, currentSession, handleForm, renderAccount, safeReturnTo, setText, show } from './api.js'

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

// The IdP sends people back to the page they asked for (without one, to the workspace it vouched
// for); the typed email goes along as a hint the IdP may pre-fill its sign-in page with.
function ssoLoginHref(connection, email) {
  const url = new URL(connection.loginUrl, location.origin)
  if (returnTo) url.searchParams.set('returnTo', returnTo)
  url.searchParams.set('loginHint', email)
  return url.href
}

// Discovery routes by verified email domain only (at most one connection) and names no workspace.
handleForm(document.getElementById('sso-form'), async ({ email }) => {
  setText('sso-status', '')
  const { connections } = await api('POST', '/v1/auth/sso/discover', { email })
  const [connection] = connections
  if (!connection) {
    setText(
      'sso-status',
      `SSO is not set up for ${email}’s domain. Sign in with your password, or use the SSO sign-in link your workspace’s admin shared.`,
    )
    return
  }
  setText('sso-status', 'Taking you to your organization’s identity provider…')
  location.assign(ssoLoginHref(connection, email))
})

currentSession().then(renderAccount, () => renderAccount(null))
