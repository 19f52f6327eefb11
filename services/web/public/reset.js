import { api, handleForm, renderAccount, setText, show } from './api.js'

// The link is PUBLIC_URL/reset#token=…: the fragment never reaches a server log. It is read
// once and dropped from the address bar, so neither history nor a shared screen keeps it.
const token = new URLSearchParams(location.hash.slice(1)).get('token')
if (location.hash) history.replaceState(null, '', location.pathname)
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
