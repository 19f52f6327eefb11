import { api, handleForm, setText, show, tokenFromLink } from './api.js'

// The link is PUBLIC_URL/end-session#token=…; the token leaves the address bar once read (tokenFromLink).
const token = tokenFromLink('end-session-token')

const form = document.getElementById('end-session-form')
if (!token) {
  setText('end-session-error', 'This link has no session in it. Open the link from the email again.')
  document.getElementById('end-session-submit').disabled = true
} else {
  // The page's one action has the focus: Enter ends the session, Tab leads on to the rest.
  document.getElementById('end-session-submit').focus()
  handleForm(form, async () => {
    await api('POST', '/v1/auth/sessions/end-by-link', { token })
    show('end-session-form', false)
    setText('end-session-status', 'That session has ended.')
    show('end-session-done')
    document.querySelector('#end-session-done a')?.focus()
  })
}
