import {
  ApiError,
  api,
  confirmAction,
  currentSession,
  element,
  goToLogin,
  renderAccount,
  rowButton,
  setText,
} from './api.js'

const dateTime = (value) => new Date(value).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })

async function load() {
  const session = await currentSession()
  if (!session) return goToLogin()
  renderAccount(session)
  let sessions
  try {
    ;({ sessions } = await api('GET', '/v1/auth/sessions'))
  } catch (error) {
    // Signed in only through a workspace's SSO: the account's sessions need the password sign-in.
    if (error instanceof ApiError && error.code === 'reauthentication_required') {
      setText('sessions-error', error.message)
      document.getElementById('end-other-sessions').hidden = true
      return
    }
    throw error
  }
  const body = document.getElementById('sessions-body')
  body.replaceChildren()
  for (const row of sessions) {
    const how = row.method === 'saml' ? `SSO of ${row.workspaceName ?? 'a workspace'}` : 'Password'
    const device = row.current ? `${row.device.description} (this browser)` : row.device.description
    const actions = row.current
      ? []
      : [
          rowButton('End session', `${row.device.description}, ${how}`, () => endSession(row, how), {
            errorId: 'sessions-error',
            className: 'danger small',
          }),
        ]
    body.append(
      element(
        'tr',
        { 'data-session-id': row.id, 'data-current': String(row.current) },
        element('td', { 'data-label': 'Device' }, device),
        element('td', { 'data-label': 'Signed in with' }, how),
        element('td', { 'data-label': 'Address' }, row.ip ?? ''),
        element('td', { 'data-label': 'Started' }, dateTime(row.createdAt)),
        element('td', { 'data-label': 'Last active' }, dateTime(row.lastSeenAt)),
        element('td', { class: 'actions' }, ...actions),
      ),
    )
  }
  document.getElementById('end-other-sessions').disabled = sessions.every((row) => row.current)
}

async function endSession(row, how) {
  const confirmed = await confirmAction({
    title: 'End this session?',
    message: `The browser on ${row.device.description} (${how}${row.ip ? `, ${row.ip}` : ''}) is signed out at once.`,
    confirmLabel: 'End session',
  })
  if (!confirmed) return
  setText('sessions-status', '')
  await api('DELETE', `/v1/auth/sessions/${row.id}`)
  await load()
  setText('sessions-status', `The session on ${row.device.description} has ended.`)
}

document.getElementById('end-other-sessions').addEventListener('click', async (event) => {
  const button = event.currentTarget
  setText('sessions-error', '')
  const confirmed = await confirmAction({
    title: 'End all other sessions?',
    message:
      'Every other browser signed in to your account, by password or through a workspace’s SSO, is signed out at once. This browser stays signed in.',
    confirmLabel: 'End all other sessions',
  })
  if (!confirmed) return
  button.disabled = true
  try {
    const { ended } = await api('POST', '/v1/auth/sessions/end-others')
    await load()
    setText('sessions-status', ended === 1 ? 'One other session has ended.' : `${ended} other sessions have ended.`)
  } catch (error) {
    setText('sessions-error', error.message)
    button.disabled = false
  }
})

load().catch((error) => setText('sessions-error', error.message))
