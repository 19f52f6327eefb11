import { api, handleForm, renderAccount, setText, show, tokenFromLink } from './api.js'

// The link is PUBLIC_URL/reset#token=…; the token leaves the address bar once read (tokenFromLink).
const token = tokenFromLink('reset-token')
const linkProblems = new Set(['invalid_link', 'link_expired'])

if (!token) {
  setText('reset-link-error', 'This link has no reset token in it. Open the link from your email again.')
  show('reset-form', false)
}

handleForm(document.getElementById('reset-form'), async ({ password }) => {
  try {
    await api('POST', '/v1/auth/password/reset', { token, password })
  } catch (error) {
    if (!linkProblems.has(error.code)) throw error
    setText('reset-link-error', error.message)
    show('reset-form', false)
    return
  }
  show('reset-form', false)
  show('reset-done')
  document.getElementById('reset-continue').focus()
})

renderAccount(null)

// Another link opened in this tab changes only the fragment: start again with its token.
window.addEventListener('hashchange', () => location.reload())
