import { api, handleForm, renderAccount, safeReturnTo } from './api.js'

const returnTo = safeReturnTo(new URLSearchParams(location.search).get('returnTo'))

handleForm(document.getElementById('signup-form'), async ({ firstName, lastName, email, password }) => {
  await api('POST', '/v1/auth/signup', {
    email,
    password,
    ...(firstName ? { firstName } : {}),
    ...(lastName ? { lastName } : {}),
  })
  location.assign(returnTo)
})

renderAccount(null)
