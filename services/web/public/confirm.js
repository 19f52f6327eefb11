import { ApiError, api, currentSession, handleForm, renderAccount, setText, show, tokenFromLink } from './api.js'

// The link is PUBLIC_URL/confirm#token=…; the token leaves the address bar once read (tokenFromLink).
const token = tokenFromLink('confirm-token')
const linkProblems = new Set(['invalid_link', 'link_expired'])

function done(message) {
  for (const id of ['confirm-signed-in', 'confirm-password-form', 'confirm-reclaim', 'confirm-resend']) show(id, false)
  document.getElementById('unconfirmed')?.remove()
  setText('confirm-done-message', message)
  show('confirm-done')
  document.getElementById('confirm-continue').focus()
}

/** A link that cannot be used is said once, at the top, and its forms go away. */
function linkUnusable(error) {
  if (!(error instanceof ApiError && linkProblems.has(error.code))) return false
  for (const id of ['confirm-signed-in', 'confirm-password-form', 'confirm-reclaim']) show(id, false)
  setText('confirm-link-error', `${error.message} Signed in, your account page sends a new confirmation link.`)
  return true
}

function askForPassword() {
  show('confirm-signed-in', false)
  show('confirm-password-form')
  show('confirm-reclaim')
}

async function start() {
  const session = await currentSession().catch(() => null)
  renderAccount(session)
  if (!token) {
    if (session && session.user.emailConfirmed === false) {
      setText('confirm-resend-email', session.user.email)
      show('confirm-resend')
    } else if (session) {
      setText('confirm-status', 'Your email address is confirmed.')
    } else {
      setText('confirm-link-error', 'This link has no confirmation token in it. Open the link from your email again.')
    }
    return
  }
  if (session?.account && session.user.emailConfirmed === false) {
    setText('confirm-account', session.user.email)
    show('confirm-signed-in')
    show('confirm-reclaim')
    return
  }
  askForPassword()
}

const confirmButton = document.getElementById('confirm-button')
confirmButton.addEventListener('click', async () => {
  confirmButton.disabled = true
  setText('confirm-signed-in-error', '')
  try {
    await api('POST', '/v1/auth/email/confirm', { token })
    done('Your email address is confirmed.')
  } catch (error) {
    if (linkUnusable(error)) return
    // Signed in as another account than the one holding this address: its password is needed.
    if (error instanceof ApiError && error.code === 'password_required') return askForPassword()
    setText('confirm-signed-in-error', error.message)
  } finally {
    confirmButton.disabled = false
  }
})

handleForm(document.getElementById('confirm-password-form'), async ({ password }) => {
  try {
    await api('POST', '/v1/auth/email/confirm', { token, password })
  } catch (error) {
    if (linkUnusable(error)) return
    throw error
  }
  done('Your email address is confirmed, and you are signed in.')
})

handleForm(document.getElementById('confirm-reclaim-form'), async ({ password }) => {
  try {
    await api('POST', '/v1/auth/email/reclaim', { token, from: 'confirmation', password })
  } catch (error) {
    if (linkUnusable(error)) return
    throw error
  }
  done('The address is yours: your new password is set, everyone else was signed out, and you are signed in.')
})

const resendButton = document.getElementById('confirm-resend-button')
resendButton.addEventListener('click', async () => {
  resendButton.disabled = true
  setText('confirm-resend-error', '')
  try {
    await api('POST', '/v1/auth/email/confirmation')
    setText('confirm-status', 'We emailed you a new link. It works once, for 24 hours.')
  } catch (error) {
    setText('confirm-resend-error', error.message)
  } finally {
    resendButton.disabled = false
  }
})

start().catch((error) => setText('confirm-link-error', error.message))
window.addEventListener('hashchange', () => location.reload())
