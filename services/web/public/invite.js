import {
  ApiError,
  api,
  currentSession,
  element,
  handleForm,
  renderAccount,
  setText,
  show,
  tokenFromLink,
  waitForMembership,
} from './api.js'

// CONTRACT.md: the link is PUBLIC_URL/invite#token=…; the token leaves the address bar once read.
const token = tokenFromLink('invitation-token')
const roleNames = { admin: 'an admin', member: 'a member' }
let invitation = null

const panels = [
  'invite-signup',
  'invite-login',
  'invite-reclaim',
  'invite-accept',
  'invite-wrong-account',
  'invite-done',
]
function showOnly(panel, focusId) {
  for (const id of panels) show(id, id === panel)
  if (focusId) document.getElementById(focusId)?.focus()
}

async function start() {
  // The header says who is signed in on every outcome, dead ends included.
  const session = await currentSession().catch(() => null)
  renderAccount(session)
  if (!token) {
    setText('invite-error', 'This link has no invitation in it. Open the link from your invitation email again.')
    return
  }
  setText('invite-status', 'Looking up your invitation…')
  try {
    invitation = await api('POST', '/v1/invitations/lookup', { token })
  } catch (error) {
    setText('invite-status', '')
    setText('invite-error', error.message)
    return
  }
  setText('invite-status', '')
  describe(invitation)
  if (invitation.status !== 'pending') return explainClosed(invitation.status, session)
  for (const id of ['invite-signup-email', 'invite-login-email']) document.getElementById(id).value = invitation.email

  if (!session) return showOnly('invite-signup')
  if (session.user.email === invitation.email) {
    setText('invite-signed-in-as', session.user.email)
    return showOnly('invite-accept')
  }
  setText('invite-other-account', session.user.email)
  showOnly('invite-wrong-account')
}

function describe(found) {
  const inviter = found.inviterName || found.inviterEmail || found.invitedByName || found.invitedByEmail
  const summary = document.getElementById('invite-summary')
  summary.replaceChildren(
    inviter ? element('span', { id: 'invite-inviter' }, inviter) : 'You were',
    inviter ? ' invited ' : ' invited as ',
    element('strong', { id: 'invite-email' }, found.email),
    ' to join ',
    element('strong', { id: 'invite-workspace' }, found.workspaceName),
    ` as ${roleNames[found.role] ?? found.role}.`,
  )
  // What accepting means (the workspace's IdP vouches for you there and nowhere else).
  document.getElementById('invite-idp-scope').textContent =
    `${found.workspaceName}’s identity provider will be able to sign you in to ${found.workspaceName}.`
  show('invite-details')
}

/** A closed invitation says why, and offers the next step: the workspace, or signing in to reach it. */
function explainClosed(status, session) {
  const messages = {
    accepted: session
      ? 'This invitation was already accepted.'
      : 'This invitation was already accepted. Sign in to open the workspace.',
    revoked: 'This invitation was revoked. Ask your workspace admin for a new one.',
    expired: 'This invitation has expired. Ask your workspace admin to send it again.',
  }
  setText('invite-error', messages[status] ?? `This invitation is ${status}.`)
  const workspace = invitation.workspaceId ? `/workspaces/${invitation.workspaceId}` : '/'
  const next = document.getElementById('invite-next-link')
  if (session) {
    next.href = status === 'accepted' ? workspace : '/'
    next.textContent = status === 'accepted' ? `Open ${invitation.workspaceName}` : 'Go to your workspaces'
  } else {
    next.href = `/login?returnTo=${encodeURIComponent(status === 'accepted' ? workspace : '/')}`
    next.textContent = 'Sign in'
  }
  show('invite-next')
}

async function accept() {
  let accepted
  try {
    accepted = await api('POST', '/v1/invitations/accept', { token })
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'already_accepted')) throw error
  }
  const workspaceId = accepted?.invitation?.workspaceId ?? invitation.workspaceId
  setText('invite-status', 'Adding you to the workspace…')
  const joined = await waitForMembership((membership) =>
    workspaceId ? membership.workspaceId === workspaceId : membership.workspaceName === invitation.workspaceName,
  )
  setText('invite-status', '')
  setText(
    'invite-done-message',
    joined
      ? `You are now a member of ${invitation.workspaceName}. From now on you can also use “Sign in with SSO”.`
      : `You accepted the invitation to ${invitation.workspaceName}. It takes a moment to be recorded; SSO works as soon as it is.`,
  )
  const link = document.getElementById('invite-open-workspace')
  if (workspaceId) link.href = `/workspaces/${workspaceId}`
  renderAccount(await currentSession().catch(() => null))
  showOnly('invite-done', 'invite-open-workspace')
}

handleForm(document.getElementById('invite-signup-form'), async ({ firstName, lastName, password }) => {
  try {
    await api('POST', '/v1/auth/signup', {
      email: invitation.email,
      password,
      // The invitation link proves the address: the account needs no confirmation mail.
      invitationToken: token,
      ...(firstName ? { firstName } : {}),
      ...(lastName ? { lastName } : {}),
    })
  } catch (error) {
    if (error instanceof ApiError && error.code === 'email_taken') {
      showOnly('invite-login', 'invite-login-password')
      setText('invite-login-error', error.message)
      return
    }
    throw error
  }
  await accept()
})

handleForm(document.getElementById('invite-login-form'), async ({ password }) => {
  await api('POST', '/v1/auth/login', { email: invitation.email, password })
  await accept()
})

document
  .getElementById('invite-show-login')
  .addEventListener('click', () => showOnly('invite-login', 'invite-login-password'))
// The address's owner takes back an unproven account someone else made with it (its password and
// sessions end); the invitation link is the proof.
handleForm(document.getElementById('invite-reclaim-form'), async ({ password }) => {
  await api('POST', '/v1/auth/email/reclaim', { token, from: 'invitation', password })
  await accept()
})

document
  .getElementById('invite-show-reclaim')
  .addEventListener('click', () => showOnly('invite-reclaim', 'invite-reclaim-password'))
document
  .getElementById('invite-show-signup')
  .addEventListener('click', () => showOnly('invite-signup', 'invite-first-name'))

const acceptButton = document.getElementById('invite-accept-button')
acceptButton.addEventListener('click', async () => {
  acceptButton.disabled = true
  setText('invite-accept-error', '')
  try {
    await accept()
  } catch (error) {
    setText('invite-accept-error', error.message)
  } finally {
    acceptButton.disabled = false
  }
})

document.getElementById('invite-sign-out').addEventListener('click', async () => {
  await api('POST', '/v1/auth/logout').catch(() => null)
  location.reload()
})

start().catch((error) => setText('invite-error', error.message))

// Opening another invitation link in this tab changes only the fragment, which loads no new page:
// start again with the new link's token rather than keep showing the previous one's result.
window.addEventListener('hashchange', () => location.reload())
