import { api, currentSession, element, goToLogin, handleForm, renderAccount, setText } from './api.js'

const roleNames = { owner: 'Owner', admin: 'Admin', member: 'Member' }

async function load() {
  const session = await currentSession()
  if (!session) return goToLogin()
  renderAccount(session)
  const list = document.getElementById('workspace-list')
  list.replaceChildren()
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

handleForm(document.getElementById('create-workspace-form'), async ({ name }) => {
  const { workspace } = await api('POST', '/v1/workspaces', { name })
  location.assign(`/workspaces/${workspace.id}`)
})

load().catch((error) => setText('home-status', error.message))
