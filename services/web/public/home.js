import {
  api,
  currentSession,
  element,
  goToLogin,
  handleForm,
  renderAccount,
  rowButton,
  setText,
  show,
  waitForMembership,
} from './api.js'

const roleNames = { owner: 'Owner', admin: 'Admin', member: 'Member' }
const articles = { admin: 'an admin', member: 'a member' }

async function load() {
  const session = await currentSession()
  if (!session) return goToLogin()
  renderAccount(session)
  const list = document.getElementById('workspace-list')
  list.replaceChildren()
  // Only the password sign-in may see and accept invitations (the account's business).
  if (session.account) {
    await loadPendingInvitations().catch((error) => {
      show('pending-invitations')
      setText('pending-invitations-error', error.message)
    })
  }
  if (session.memberships.length === 0) {
    setText('home-status', 'You are not in a workspace yet. Create one below, or open an invitation link.')
    return
  }
  setText('home-status', '')
  for (const membership of session.memberships) {
    const sso = membership.ssoAllowed ? ' · can sign in with SSO' : ''
    list.append(
      element(
        'li',
        {},
        element('a', { href: `/workspaces/${membership.workspaceId}` }, membership.workspaceName),
        element('span', { class: 'muted' }, ` ${roleNames[membership.role] ?? membership.role}${sso}`),
      ),
    )
  }
}

/** The invitations sent to this account's proven address, each accepted with one button. */
async function loadPendingInvitations() {
  const { invitations } = await api('GET', '/v1/invitations/mine')
  const list = document.getElementById('pending-invitations-list')
  list.replaceChildren()
  show('pending-invitations', invitations.length > 0)
  for (const invitation of invitations) {
    list.append(
      element(
        'li',
        { 'data-invitation-id': invitation.id },
        element('strong', {}, invitation.workspaceName),
        element(
          'span',
          { class: 'muted' },
          ` ${invitation.inviterEmail} invited you as ${articles[invitation.role] ?? invitation.role} · expires ${new Date(invitation.expiresAt).toLocaleDateString()} `,
        ),
        rowButton('Accept', `the invitation to ${invitation.workspaceName}`, () => accept(invitation), {
          errorId: 'pending-invitations-error',
          className: 'small',
        }),
      ),
    )
  }
}

async function accept(invitation) {
  setText('pending-invitations-status', '')
  await api('POST', `/v1/invitations/${invitation.id}/accept`)
  setText('pending-invitations-status', `Adding you to ${invitation.workspaceName}…`)
  const joined = await waitForMembership((membership) => membership.workspaceId === invitation.workspaceId)
  await load()
  setText(
    'pending-invitations-status',
    joined
      ? `You are now a member of ${invitation.workspaceName}.`
      : `You accepted the invitation to ${invitation.workspaceName}. It takes a moment to be recorded.`,
  )
  show('pending-invitations')
}

handleForm(document.getElementById('create-workspace-form'), async ({ name }) => {
  const { workspace } = await api('POST', '/v1/workspaces', { name })
  location.assign(`/workspaces/${workspace.id}`)
})

load().catch((error) => setText('home-status', error.message))
