import { api, currentSession, element, goToLogin, handleForm, renderAccount, setText, show } from './api.js'

const workspaceId = document.getElementById('main').dataset.workspaceId
const roleNames = { owner: 'Owner', admin: 'Admin', member: 'Member' }
const statusNames = { pending: 'Invited', accepted: 'Joined', revoked: 'Revoked', expired: 'Expired' }

async function load() {
  const session = await currentSession()
  if (!session) return goToLogin()
  renderAccount(session)
  const membership = session.memberships.find((candidate) => candidate.workspaceId === workspaceId)
  if (!membership) {
    setText('workspace-error', 'You are not a member of this workspace.')
    return
  }
  document.title = `${membership.workspaceName} · Gatehouse`
  setText('workspace-title', membership.workspaceName)
  const isAdmin = membership.role === 'owner' || membership.role === 'admin'
  // Admins see whether SSO is set up: "you can sign in with SSO" would be untrue before it is.
  const ssoStatus = isAdmin ? await loadSsoStatus() : undefined
  const sso =
    membership.ssoAllowed && (ssoStatus === undefined || ssoStatus === 'active')
      ? ' You can sign in to it with SSO.'
      : ''
  setText(
    'workspace-role',
    `You are signed in as ${session.user.email}, ${roleNames[membership.role] ?? membership.role} of this workspace.${sso}`,
  )
  if (isAdmin) {
    setText('sso-summary', ssoSummaries[ssoStatus] ?? '')
    show('workspace-admin-links')
    show('members-section')
    await Promise.all([loadMembers(), loadInvitations()])
  }
}

const ssoSummaries = {
  not_configured: 'SSO is not set up yet.',
  awaiting_idp: 'SSO is waiting for your identity provider’s values.',
  active: 'SSO is active.',
  disabled: 'SSO is turned off.',
}

async function loadSsoStatus() {
  try {
    const { connection } = await api('GET', `/v1/workspaces/${workspaceId}/sso?optional=true`)
    return connection?.status ?? 'not_configured'
  } catch {
    return undefined
  }
}

async function loadMembers() {
  const { members } = await api('GET', `/v1/workspaces/${encodeURIComponent(workspaceId)}/members`)
  const body = document.getElementById('members-body')
  body.replaceChildren()
  for (const member of members) {
    const name = [member.firstName, member.lastName].filter(Boolean).join(' ')
    body.append(
      element(
        'tr',
        { 'data-member-email': member.email },
        element('td', {}, member.email),
        element('td', {}, name),
        element('td', {}, roleNames[member.role] ?? member.role),
        element('td', {}, member.ssoAllowed ? 'SSO allowed' : 'Password only'),
      ),
    )
  }
}

async function loadInvitations() {
  const { invitations } = await api('GET', `/v1/invitations?workspaceId=${encodeURIComponent(workspaceId)}`)
  const body = document.getElementById('invitations-body')
  body.replaceChildren()
  if (invitations.length === 0) {
    body.append(element('tr', {}, element('td', { colspan: 5 }, 'Nobody is invited yet.')))
    return
  }
  for (const invitation of invitations) {
    const actions = element('td', { class: 'actions' })
    if (invitation.status === 'pending' || invitation.status === 'expired') {
      actions.append(actionButton('Resend', invitation, () => resend(invitation)))
    }
    if (invitation.status === 'pending') {
      actions.append(
        ' ',
        actionButton('Revoke', invitation, () => revoke(invitation)),
      )
    }
    body.append(
      element(
        'tr',
        { 'data-email': invitation.email },
        element('td', {}, invitation.email),
        element('td', {}, roleNames[invitation.role] ?? invitation.role),
        element('td', { class: `status-${invitation.status}` }, statusNames[invitation.status] ?? invitation.status),
        element('td', {}, invitation.status === 'pending' ? new Date(invitation.expiresAt).toLocaleDateString() : ''),
        actions,
      ),
    )
  }
}

function actionButton(label, invitation, action) {
  const button = element(
    'button',
    { type: 'button', class: 'secondary small', 'aria-label': `${label} the invitation of ${invitation.email}` },
    label,
  )
  button.addEventListener('click', async () => {
    button.disabled = true
    setText('invite-form-error', '')
    try {
      await action()
    } catch (error) {
      setText('invite-form-error', error.message)
      button.disabled = false
    }
  })
  return button
}

async function resend(invitation) {
  await api('POST', `/v1/invitations/${invitation.id}/resend`)
  setText('invite-form-status', `The invitation was sent again to ${invitation.email}.`)
  await loadInvitations()
}

async function revoke(invitation) {
  await api('DELETE', `/v1/invitations/${invitation.id}`)
  setText('invite-form-status', `The invitation of ${invitation.email} is revoked.`)
  await loadInvitations()
}

handleForm(document.getElementById('invite-form'), async ({ email, role }) => {
  setText('invite-form-status', '')
  await api('POST', '/v1/invitations', { workspaceId, email, role })
  document.getElementById('invite-email-input').value = ''
  setText('invite-form-status', `Invitation sent to ${email}.`)
  await loadInvitations()
})

load().catch((error) => setText('workspace-error', error.message))
