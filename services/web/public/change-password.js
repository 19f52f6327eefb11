import { api, currentSession, goToLogin, handleForm, renderAccount, setText } from './api.js'

const form = document.getElementById('password-form')

handleForm(form, async ({ currentPassword, newPassword }) => {
  setText('password-status', '')
  await api('POST', '/v1/auth/password/change', { currentPassword, newPassword })
  form.reset()
  setText('password-status', 'Your password was changed. Your other sessions were signed out; this one stays.')
})

currentSession()
  .then((session) => {
    if (!session) return goToLogin()
    renderAccount(session)
  })
  .catch((error) => setText('password-error', error.message))
