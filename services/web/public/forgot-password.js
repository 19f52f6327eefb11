import { api, currentSession, handleForm, renderAccount, setText } from './api.js'

handleForm(document.getElementById('forgot-form'), async ({ email }) => {
  setText('forgot-status', '')
  // The same answer whether or not an account holds the address.
  const { message } = await api('POST', '/v1/auth/password/forgot', { email })
  setText('forgot-status', message)
})

currentSession().then(renderAccount, () => renderAccount(null))
