import {
  api,
  certificateExpiryNotes,
  confirmAction,
  currentSession,
  element,
  goToLogin,
  handleForm,
  renderAccount,
  rowButton,
  setText,
  show,
} from './api.js'

const workspaceId = document.getElementById('main').dataset.workspaceId
const roleNames = { owner: 'Owner', admin: 'Admin', member: 'Member' }
const statusNames = { pending: 'Invited', accepted: 'Joined', revoked: 'Revoked', expired: 'Expired' }
/** Who is looking: their account, their role here and the workspace's name (set by load). */
const viewer = { userId: '', role: 'member', workspaceName: '' }

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
  Object.assign(viewer, { userId: session.user.id, role: membership.role, workspaceName: membership.workspaceName })
  show('leave-row')
  show('leave-hint')
  setText('workspace-title', membership.workspaceName)
  const isAdmin = membership.role === 'owner' || membership.role === 'admin'
  // Admins see whether SSO is set up: "you can sign in with SSO" would be untrue before it is.
  const connection = isAdmin ? await loadSsoConnection() : undefined
  const ssoStatus = connection?.status
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
    showSsoAttention(connection)
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

async function loadSsoConnection() {
  try {
    // ?optional=true: no SSO yet is an answer (connection null), not an error in the console.
    const { connection } = await api('GET', `/v1/workspaces/${workspaceId}/sso?optional=true`)
    return connection ?? { status: 'not_configured' }
  } catch {
    return undefined
  }
}

// The SSO page's notes of a certificate near its end, here too (the owners and admins are also
// emailed), as is a metadata URL that cannot be read.
function showSsoAttention(connection) {
  const notes = certificateExpiryNotes(connection?.idp?.certificates ?? [], {
    possessive: 'the identity provider’s',
    addWhere: 'in the SSO settings',
    removeWhere: 'in the SSO settings',
  })
  const problem = connection?.idp?.metadata?.problem
  if (problem) notes.push(problem.message)
  setText('sso-attention', notes.join(' '))
  show('sso-attention', notes.length > 0)
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
        element('td', { 'data-label': 'Email' }, member.email),
        element('td', { 'data-label': 'Name' }, name),
        element('td', { 'data-label': 'Role' }, roleNames[member.role] ?? member.role),
        element('td', { 'data-label': 'SSO' }, member.ssoAllowed ? 'SSO allowed' : 'Password only'),
        element('td', { class: 'actions' }, ...memberActions(member)),
      ),
    )
  }
}

/** What the viewer may do to a member: owners change roles, transfer and remove; admins remove members. */
function memberActions(member) {
  if (member.userId === viewer.userId) return []
  const options = { errorId: 'members-error' }
  const actions = []
  if (viewer.role === 'owner' && member.role !== 'owner') {
    const makeAdmin = member.role === 'member'
    actions.push(
      rowButton(
        makeAdmin ? 'Make admin' : 'Make member',
        member.email,
        () => changeRole(member, makeAdmin ? 'admin' : 'member'),
        options,
      ),
      rowButton('Transfer ownership to', member.email, () => transferOwnership(member), options),
    )
  }
  if (viewer.role === 'owner' || (viewer.role === 'admin' && member.role === 'member')) {
    actions.push(
      rowButton('Remove', member.email, () => removeMember(member), { ...options, className: 'danger small' }),
    )
  }
  return actions
}

async function changeRole(member, role) {
  setText('members-status', '')
  await api('PATCH', `/v1/workspaces/${workspaceId}/members/${member.userId}`, { role })
  setText('members-status', `${member.email} is now ${role === 'admin' ? 'an admin' : 'a member'}.`)
  await loadMembers()
}

async function transferOwnership(member) {
  const confirmed = await confirmAction({
    title: `Make ${member.email} the owner?`,
    message: `${member.email} becomes the owner of ${viewer.workspaceName} and you become an admin: only they can then make and unmake admins, or give the ownership back.`,
    confirmLabel: 'Transfer ownership',
  })
  if (!confirmed) return
  await api('POST', `/v1/workspaces/${workspaceId}/ownership`, { userId: member.userId })
  // Roles changed on both sides: the page shows what an admin may now do.
  location.reload()
}

async function removeMember(member) {
  const confirmed = await confirmAction({
    title: `Remove ${member.email}?`,
    message: `${member.email} loses access to ${viewer.workspaceName} at once: their sessions through its identity provider end and it can no longer sign them in. Inviting them again is the way back.`,
    confirmLabel: 'Remove',
  })
  if (!confirmed) return
  setText('members-status', '')
  await api('DELETE', `/v1/workspaces/${workspaceId}/members/${member.userId}`)
  setText('members-status', `${member.email} was removed from the workspace.`)
  await Promise.all([loadMembers(), loadInvitations()])
}

document.getElementById('leave-workspace').addEventListener('click', async (event) => {
  const button = event.currentTarget
  setText('leave-error', '')
  const confirmed = await confirmAction({
    title: `Leave ${viewer.workspaceName}?`,
    message:
      'You lose access to this workspace, and its identity provider can no longer sign you in to it. To come back you need a new invitation.',
    confirmLabel: 'Leave workspace',
  })
  if (!confirmed) return
  button.disabled = true
  try {
    await api('POST', `/v1/workspaces/${workspaceId}/leave`)
    location.assign('/')
  } catch (error) {
    setText('leave-error', error.message)
    button.disabled = false
  }
})

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
    const options = { errorId: 'invite-form-error' }
    const subject = `the invitation of ${invitation.email}`
    if (invitation.status === 'pending' || invitation.status === 'expired') {
      actions.append(rowButton('Resend', subject, () => resend(invitation), options))
    }
    if (invitation.status === 'pending') {
      actions.append(rowButton('Revoke', subject, () => revoke(invitation), options))
    }
    const removed = invitation.status === 'revoked' && invitation.acceptedAt
    body.append(
      element(
        'tr',
        { 'data-email': invitation.email },
        element('td', { 'data-label': 'Email' }, invitation.email),
        element('td', { 'data-label': 'Role' }, roleNames[invitation.role] ?? invitation.role),
        element(
          'td',
          { 'data-label': 'Status', class: `status-${invitation.status}` },
          removed ? 'Removed' : (statusNames[invitation.status] ?? invitation.status),
        ),
        element(
          'td',
          { 'data-label': 'Expires' },
          invitation.status === 'pending' ? new Date(invitation.expiresAt).toLocaleDateString() : '',
        ),
        actions,
      ),
    )
  }
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
