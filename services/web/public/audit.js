import { api, currentSession, element, goToLogin, renderAccount, setText, show } from './api.js'

const workspaceId = document.getElementById('main').dataset.workspaceId
const auditPath = `/v1/workspaces/${workspaceId}/audit`
const methodNames = {
  password: 'password',
  saml: 'SSO',
  setup_link: 'setup link',
  system: 'Gatehouse',
}
let cursor = null

/** One change in words: its action, then what changed (fingerprints, ids and values as recorded). */
function describe(entry) {
  const changes = Object.entries(entry.changes)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : JSON.stringify(value)}`)
    .join('; ')
  return [element('code', {}, entry.action), changes ? ` — ${changes}` : '']
}

function who(entry) {
  const how = methodNames[entry.actor.method] ?? entry.actor.method
  if (entry.actor.method === 'setup_link') return `Setup link of ${entry.actor.email ?? 'an owner'}`
  return entry.actor.email ? `${entry.actor.email} (${how})` : how
}

async function loadPage({ more = false } = {}) {
  setText('audit-error', '')
  const query = new URLSearchParams({ limit: '50' })
  if (more && cursor) query.set('cursor', cursor)
  const { entries, nextCursor } = await api('GET', `${auditPath}?${query}`)
  cursor = nextCursor
  show('audit-more-row', nextCursor !== null)
  const rows = entries.map((entry) =>
    element(
      'tr',
      {},
      element('td', {}, new Date(entry.at).toLocaleString()),
      element('td', {}, who(entry)),
      element('td', { class: 'change' }, ...describe(entry)),
      element('td', {}, entry.ip ?? '—'),
    ),
  )
  const body = document.getElementById('audit-body')
  if (more) body.append(...rows)
  else body.replaceChildren(...rows)
  if (!more && entries.length === 0) setText('audit-status', 'No changes yet.')
}

async function load() {
  const session = await currentSession()
  if (!session) return goToLogin()
  renderAccount(session)
  const membership = session.memberships.find((candidate) => candidate.workspaceId === workspaceId)
  if (membership) {
    setText('workspace-link', membership.workspaceName)
    document.title = `Audit trail · ${membership.workspaceName} · Gatehouse`
  }
  if (!membership || (membership.role !== 'owner' && membership.role !== 'admin')) {
    setText('audit-error', 'Only the owner or an admin of this workspace can see its audit trail.')
    return
  }
  await loadPage()
}

document
  .getElementById('audit-more')
  .addEventListener('click', () => loadPage({ more: true }).catch((error) => setText('audit-error', error.message)))
load().catch((error) => setText('audit-error', error.message))
