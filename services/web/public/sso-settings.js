import {
  api,
  certificateExpiryNotes,
  confirmAction,
  currentSession,
  element,
  goToLogin,
  handleForm,
  renderAccount,
  setText,
  show,
  tokenFromLink,
  useSetupToken,
} from './api.js'

const main = document.getElementById('main')
// On /setup this page is a setup link's: the same steps, through the link's own routes.
const setupMode = main.dataset.setup === 'true'
const workspaceId = main.dataset.workspaceId
const ssoPath = setupMode ? '/v1/setup/sso' : `/v1/workspaces/${workspaceId}/sso`
const statusNames = {
  awaiting_idp: () => `Waiting for ${possessive()} values`,
  active: () => 'Active',
  disabled: () => 'Turned off',
}
const idpKindInputs = [...document.querySelectorAll('input[name="idpKind"]')]

/** The IdP chosen on the picker, as in "Okta’s values". */
function possessive() {
  return idpKindInputs.find((input) => input.checked)?.dataset.possessive ?? 'your identity provider’s'
}

/** Shows the steps and field names of one IdP (the page renders every IdP's, Entra's visible). */
function showIdpKind(kind) {
  const known = idpKindInputs.some((input) => input.value === kind) ? kind : 'entra'
  for (const input of idpKindInputs) input.checked = input.value === known
  for (const variant of document.querySelectorAll('[data-idp-kind]')) variant.hidden = variant.dataset.idpKind !== known
}

/** A label's text as shown: only the chosen IdP's variant. */
function labelText(field) {
  const label = document.querySelector(`label[for="${field.id}"]`)
  if (!label) return field.getAttribute('aria-label')
  return (label.querySelector('[data-idp-kind]:not([hidden])') ?? label).textContent.trim()
}
// Only the owner may allow SHA-1 (the API answers 403 to an admin); an admin may turn it off.
let isOwner = false

async function loadSetup() {
  const token = tokenFromLink('setup-token')
  if (!token) {
    setText('sso-page-error', 'This page needs the setup link the workspace owner gave you. Open that link again.')
    return
  }
  useSetupToken(token)
  try {
    const { workspace, expiresAt } = await api('GET', '/v1/setup')
    setText('setup-workspace', workspace.name)
    setText('setup-expires', new Date(expiresAt).toUTCString())
    document.title = `Set up SSO · ${workspace.name} · Gatehouse`
    show('setup-intro')
  } catch (error) {
    sessionStorage.removeItem('setup-token')
    throw error
  }
  await loadConnection()
}

/** The connection (or the Turn on SSO step when there is none yet) and the latest test sign-in. */
async function loadConnection() {
  const { connection } = await api('GET', `${ssoPath}?optional=true`)
  if (!connection) return show('sso-off')
  render(connection)
  await loadTestSignIn()
  return connection
}

async function load() {
  if (setupMode) return loadSetup()
  const session = await currentSession()
  if (!session) return goToLogin()
  renderAccount(session)
  const membership = session.memberships.find((candidate) => candidate.workspaceId === workspaceId)
  if (membership) {
    setText('workspace-link', membership.workspaceName)
    document.title = `SSO settings · ${membership.workspaceName} · Gatehouse`
  }
  isOwner = membership?.role === 'owner'
  if (!membership || (membership.role !== 'owner' && membership.role !== 'admin')) {
    setText('sso-page-error', 'Only the owner or an admin of this workspace can change its SSO settings.')
    return
  }
  document.getElementById('audit-link').href = `/workspaces/${workspaceId}/audit`
  if (isOwner) show('setup-links-section')
  if (await loadConnection()) await loadSignIns()
}

function render(connection) {
  show('sso-off', false)
  show('sso-on')
  showIdpKind(connection.idpKind)
  document.getElementById('sp-entity-id').value = connection.sp.entityId
  document.getElementById('sp-acs-url').value = connection.sp.acsUrl
  document.getElementById('sp-login-url').value = connection.sp.loginUrl
  const metadataLink = document.getElementById('sp-metadata-download')
  metadataLink.href = connection.sp.metadataUrl
  metadataLink.setAttribute('download', `gatehouse-sp-metadata-${connection.id}.xml`)

  const badge = document.getElementById('sso-status')
  badge.textContent = statusNames[connection.status]?.() ?? connection.status
  badge.dataset.status = connection.status
  document.getElementById('sso-enabled').checked = connection.enabled
  document.getElementById('sso-idp-initiated').checked = connection.allowIdpInitiated
  document.getElementById('sso-email-from-attribute').checked = connection.emailFromAttribute
  document.getElementById('sso-allow-sha1').checked = connection.allowSha1
  document.getElementById('sso-allow-sha1').disabled = !isOwner && !connection.allowSha1

  renderSigning(connection)
  shownConnection = connection
  renderCertificates(connection)

  const certificates = connection.idp?.certificates ?? []
  setText('idp-fingerprint', certificates.map((certificate) => certificate.fingerprintSha256).join(', ') || '—')
  setText(
    'idp-expiry',
    certificates.map((certificate) => new Date(certificate.notAfter).toUTCString()).join(', ') || '—',
  )
  const expiryNotes = certificateExpiryNotes(certificates, {
    possessive: possessive(),
    // A setup link's holder sees the status but not the certificates: the admin adds and removes.
    addWhere: setupMode ? 'on the workspace admin’s SSO page' : 'with “Add certificate” below',
    removeWhere: setupMode ? 'on the workspace admin’s SSO page' : 'below',
  })
  // A save's answer warns of a certificate near its end too: said once, by the note above.
  const noted = certificates.map((certificate) => `${certificate.fingerprintSha256.slice(0, 11)}… expires on`)
  const saveWarnings = (connection.warnings ?? []).filter((warning) => !noted.some((note) => warning.includes(note)))
  const warnings = document.getElementById('sso-warnings')
  warnings.replaceChildren(...[...saveWarnings, ...expiryNotes].map((warning) => element('li', {}, warning)))
  renderMetadataSource(connection.idp?.metadata ?? null, warnings)
  // The form shows what is saved (after a metadata import too, which replaces both values).
  if (connection.idp) {
    document.getElementById('idp-login-url').value = connection.idp.ssoUrl
    document.getElementById('idp-entity-id').value = connection.idp.entityId
  }
  document.getElementById('sso-enabled').disabled = connection.status === 'awaiting_idp'
  show('sso-test-block', connection.idp !== null)
}

/** Where the IdP's values come from when read from its metadata URL, and what is wrong with it. */
function renderMetadataSource(metadata, warnings) {
  show('metadata-refresh', metadata !== null)
  if (!metadata) {
    setText('idp-metadata-status', '— (values saved by hand or from a file)')
    return
  }
  const read = metadata.readAt ? `last read ${new Date(metadata.readAt).toUTCString()}` : 'not read yet'
  setText('idp-metadata-status', `${metadata.url} (${read})`)
  const urlField = document.getElementById('idp-metadata-url')
  if (!urlField.value) urlField.value = metadata.url
  if (metadata.problem) warnings.append(element('li', {}, metadata.problem.message))
}

// The fingerprint of the certificate that signed the newest successful sign-in (from the history).
let latestCertificate = null
let shownConnection = null

function renderCertificates(connection) {
  const certificates = connection.idp?.certificates ?? []
  const rows = certificates.map((certificate) =>
    element(
      'tr',
      {},
      element('td', { class: 'fingerprint' }, certificate.fingerprintSha256),
      element('td', {}, new Date(certificate.notBefore).toUTCString()),
      element('td', {}, new Date(certificate.notAfter).toUTCString()),
      element('td', {}, certificate.fingerprintSha256 === latestCertificate ? 'Signed the latest sign-in' : '—'),
      element(
        'td',
        {},
        certificates.length > 1
          ? element(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'data-remove-certificate': certificate.fingerprintSha256,
                'aria-label': `Remove the certificate ${certificate.fingerprintSha256}`,
              },
              'Remove',
            )
          : '',
      ),
    ),
  )
  document.getElementById('idp-certificates-body').replaceChildren(...rows)
}

function renderSigning(connection) {
  document.getElementById('sso-sign-requests').checked = connection.signAuthnRequests
  show('sso-idp-wants-signed', connection.idp?.wantAuthnRequestsSigned === true)
  const rows = connection.sp.signingCertificates.map((key) => {
    const retire = key.signing
      ? ''
      : element('button', { type: 'button', class: 'secondary', 'data-retire-key': key.id }, 'Retire')
    return element(
      'tr',
      {},
      element('td', { class: 'fingerprint' }, key.fingerprintSha256),
      element('td', {}, new Date(key.notAfter).toUTCString()),
      element('td', {}, key.signing ? 'Signs requests' : 'Still published (previous key)'),
      element('td', {}, retire),
    )
  })
  document.getElementById('signing-keys-body').replaceChildren(...rows)
}

async function changeSigningKeys(method, path, done) {
  setText('signing-error', '')
  try {
    const { connection } = await api(method, `${ssoPath}${path}`)
    render(connection)
    setText('signing-status', done)
  } catch (error) {
    setText('signing-error', error.message)
  }
}

document
  .getElementById('signing-key-rotate')
  .addEventListener('click', () =>
    changeSigningKeys(
      'POST',
      '/signing-keys',
      'A new key signs from now on. The previous certificate stays published until you retire it.',
    ),
  )
document.getElementById('signing-keys-body').addEventListener('click', (event) => {
  const keyId = event.target.closest('[data-retire-key]')?.dataset.retireKey
  if (keyId) changeSigningKeys('DELETE', `/signing-keys/${keyId}`, 'The previous key was retired.')
})

const certificateAddForm = document.getElementById('certificate-add-form')
handleForm(certificateAddForm, async ({ certificate }) => {
  setText('certificates-error', '')
  try {
    const { connection } = await api('POST', `${ssoPath}/idp/certificates`, { certificate })
    certificateAddForm.reset()
    render(connection)
    setText('certificates-status', 'Certificate added: sign-ins signed with it or with the previous one are accepted.')
  } catch (error) {
    // Shown once, beside the field.
    setText('certificate-add-error', error.fields?.certificate ?? error.message)
  }
})
document.getElementById('idp-certificates-body').addEventListener('click', async (event) => {
  const fingerprint = event.target.closest('[data-remove-certificate]')?.dataset.removeCertificate
  if (!fingerprint) return
  setText('certificates-error', '')
  try {
    const { connection } = await api('DELETE', `${ssoPath}/idp/certificates/${fingerprint.replaceAll(':', '')}`)
    render(connection)
    setText('certificates-status', 'Certificate removed: sign-ins signed with it are refused from now on.')
  } catch (error) {
    setText('certificates-error', error.message)
  }
})

const healthNames = { healthy: 'Healthy', failing: 'Failing', idle: 'No sign-ins in the last hour' }
const outcomeNames = { succeeded: 'Signed in', failed: 'Refused' }
const initiationNames = { sp: 'Gatehouse', idp: 'Identity provider' }
let signInsCursor = null

/** The history's first page (again, or for a search), or with `more` the next older page. */
async function loadSignIns({ more = false } = {}) {
  setText('sign-ins-error', '')
  const reference = document.getElementById('sign-ins-reference').value.trim()
  const query = new URLSearchParams({ limit: '20' })
  if (reference) query.set('reference', reference)
  if (more && signInsCursor) query.set('cursor', signInsCursor)
  try {
    const { signIns, nextCursor, health } = await api('GET', `${ssoPath}/sign-ins?${query}`)
    signInsCursor = nextCursor
    show('sign-ins-more-row', nextCursor !== null)
    const badge = document.getElementById('sign-ins-health-status')
    badge.textContent = healthNames[health.status] ?? health.status
    badge.dataset.status = health.status
    setText(
      'sign-ins-health-detail',
      `${health.attempts} sign-in${health.attempts === 1 ? '' : 's'} in the last ${health.windowMinutes} minutes, ${health.refused} refused by the connection’s settings.`,
    )
    const fix = health.latestRefusal
    setText('sign-ins-fix', fix ? `What to fix (${fix.reference}): ${fix.message ?? fix.reason}` : '')
    show('sign-ins-fix', fix !== null)
    latestCertificate = health.latestCertificate
    if (shownConnection) renderCertificates(shownConnection)
    const rows = signIns.map((signIn) =>
      element(
        'tr',
        {},
        element('td', {}, new Date(signIn.occurredAt).toLocaleString()),
        element('td', {}, signIn.email),
        element('td', {}, outcomeNames[signIn.outcome] ?? signIn.outcome),
        element(
          'td',
          {},
          signIn.reference ? `${signIn.reference}${signIn.message ? ` — ${signIn.message}` : ''}` : '—',
        ),
        element('td', {}, initiationNames[signIn.initiation] ?? '—'),
        element('td', { class: 'fingerprint' }, signIn.certificateFingerprint ?? '—'),
      ),
    )
    const body = document.getElementById('sign-ins-body')
    if (more) body.append(...rows)
    else body.replaceChildren(...rows)
  } catch (error) {
    setText('sign-ins-error', error.message)
  }
}
handleForm(document.getElementById('sign-ins-search'), () => loadSignIns())
document.getElementById('sign-ins-more').addEventListener('click', () => loadSignIns({ more: true }))

const turnOnButton = document.getElementById('sso-turn-on')
turnOnButton.addEventListener('click', async () => {
  turnOnButton.disabled = true
  setText('sso-page-error', '')
  try {
    const { connection } = await api('POST', ssoPath)
    render(connection)
    setText(
      'sso-page-status',
      'SSO setup started: choose your identity provider, copy the two values below into it, then paste its values back.',
    )
    document.getElementById('idp-kind-title').setAttribute('tabindex', '-1')
    document.getElementById('idp-kind-title').focus()
  } catch (error) {
    setText('sso-page-error', error.message)
  } finally {
    turnOnButton.disabled = false
  }
})

for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.getElementById(button.dataset.copy)
    const label = labelText(field)
    try {
      await navigator.clipboard.writeText(field.value)
      setText('copy-status', `${label} copied.`)
    } catch {
      // Clipboard access can be refused (permissions, older browsers): select it for Ctrl-C instead.
      field.focus()
      field.select()
      setText('copy-status', `${label} is selected: press Ctrl-C (⌘-C) to copy it.`)
    }
  })
}

// The IdPs' certificate downloads are PEM text (Entra's "Certificate (Base64)", Okta's .cert,
// Google's .pem); a DER .cer (binary) is turned into Base64.
document.getElementById('idp-certificate-file').addEventListener('change', async (event) => {
  const file = event.currentTarget.files?.[0]
  if (!file) return
  const bytes = new Uint8Array(await file.arrayBuffer())
  const text = new TextDecoder().decode(bytes)
  const isText = /^[\s\w+/=:-]*$/.test(text)
  document.getElementById('idp-certificate').value = isText ? text.trim() : toBase64(bytes)
  setText(
    'sso-save-status',
    `${file.name} read into the ${labelText(document.getElementById('idp-certificate'))} field.`,
  )
})

function toBase64(bytes) {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function saved(connection) {
  render(connection)
  const message =
    connection.status === 'active'
      ? 'Saved. SSO is active: members who accepted their invitation can now sign in with SSO.'
      : 'Saved.'
  setText('sso-save-status', message)
  document.getElementById('step-3-title').setAttribute('tabindex', '-1')
  document.getElementById('step-3-title').focus()
}

handleForm(document.getElementById('idp-form'), async ({ ssoUrl, entityId, certificate }) => {
  setText('sso-save-status', '')
  const { connection } = await api('PUT', `${ssoPath}/idp`, { ssoUrl, entityId, certificate })
  saved(connection)
})

handleForm(document.getElementById('metadata-form'), async () => {
  setText('sso-save-status', '')
  const file = document.getElementById('idp-metadata-file').files?.[0]
  if (!file) throw new Error(`Choose the ${labelText(document.getElementById('idp-metadata-file'))} first.`)
  const { connection } = await api('PUT', `${ssoPath}/idp`, { metadataXml: await file.text() })
  saved(connection)
})

handleForm(document.getElementById('metadata-url-form'), async ({ metadataUrl }) => {
  setText('sso-save-status', '')
  const { connection } = await api('PUT', `${ssoPath}/idp`, { metadataUrl })
  saved(connection)
})

const refreshOutcomes = {
  unchanged: 'Metadata read: nothing changed.',
  certificates_added: 'Metadata read: its new certificate was added beside the current one.',
  unreadable: 'The metadata could not be read: see the warning above.',
  change_refused: 'The metadata changed in a way that is not applied on its own: see the warning above.',
}
document.getElementById('metadata-refresh').addEventListener('click', async (event) => {
  const button = event.currentTarget
  button.disabled = true
  setText('sso-toggle-error', '')
  try {
    const { connection, refresh } = await api('POST', `${ssoPath}/idp/metadata/refresh`)
    render(connection)
    setText('sso-save-status', refreshOutcomes[refresh.outcome] ?? 'Metadata read.')
  } catch (error) {
    setText('sso-toggle-error', error.message)
  } finally {
    button.disabled = false
  }
})

async function toggle(changes) {
  setText('sso-toggle-error', '')
  try {
    const { connection } = await api('PATCH', ssoPath, changes)
    render(connection)
    setText('sso-save-status', 'Saved.')
  } catch (error) {
    setText('sso-toggle-error', error.message)
    await load()
  }
}
document
  .getElementById('sso-enabled')
  .addEventListener('change', (event) => toggle({ enabled: event.currentTarget.checked }))
document
  .getElementById('sso-idp-initiated')
  .addEventListener('change', (event) => toggle({ allowIdpInitiated: event.currentTarget.checked }))
document
  .getElementById('sso-email-from-attribute')
  .addEventListener('change', (event) => toggle({ emailFromAttribute: event.currentTarget.checked }))
document
  .getElementById('sso-sign-requests')
  .addEventListener('change', (event) => toggle({ signAuthnRequests: event.currentTarget.checked }))
document
  .getElementById('sso-allow-sha1')
  .addEventListener('change', (event) => toggle({ allowSha1: event.currentTarget.checked }))

// The choice is saved with the connection: the page shows its guidance again on the next visit, and
// refusals give advice in that IdP's terms (or IdP-neutral ones).
for (const input of idpKindInputs) {
  input.addEventListener('change', async () => {
    if (!input.checked) return
    showIdpKind(input.value)
    setText('idp-kind-error', '')
    try {
      const { connection } = await api('PATCH', ssoPath, { idpKind: input.value })
      render(connection)
      setText('sso-page-status', `Showing the steps for ${input.labels[0]?.textContent.trim() ?? input.value}.`)
    } catch (error) {
      setText('idp-kind-error', error.message)
      await load()
    }
  })
}

document.getElementById('sso-remove').addEventListener('click', async () => {
  const confirmed = await confirmAction({
    title: 'Remove SSO?',
    message:
      'Members will sign in with their passwords until it is set up again. Setting it up again gives new Identifier and Reply URL values: the application in your identity provider must then be re-pointed to them (or made anew).',
    confirmLabel: 'Remove SSO',
  })
  if (!confirmed) return
  setText('sso-toggle-error', '')
  try {
    await api('DELETE', ssoPath)
    location.reload()
  } catch (error) {
    setText('sso-toggle-error', error.message)
  }
})

const domainsPath = `/v1/workspaces/${workspaceId}/domains`

function renderDomains(domains) {
  const rows = domains.map((claim) => {
    const verified = claim.status === 'verified'
    const verify = verified
      ? ''
      : element('button', { type: 'button', class: 'secondary', 'data-verify-domain': claim.domain }, 'Verify')
    const remove = element(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-remove-domain': claim.domain,
        'aria-label': `Remove ${claim.domain}`,
      },
      'Remove',
    )
    return element(
      'tr',
      { 'data-domain': claim.domain },
      element('td', {}, claim.domain),
      element(
        'td',
        {},
        element(
          'span',
          { class: 'badge', 'data-status': verified ? 'active' : undefined },
          verified ? 'Verified' : 'Pending',
        ),
      ),
      element(
        'td',
        { class: 'fingerprint' },
        'Name: ',
        element('code', {}, claim.txtRecord.name),
        element('br'),
        'Value: ',
        element('code', {}, claim.txtRecord.value),
      ),
      element('td', { class: 'actions' }, verify, ' ', remove),
    )
  })
  document.getElementById('domains-body').replaceChildren(...rows)
}

async function loadDomains() {
  show('domain-form', isOwner)
  if (!isOwner || setupMode) return
  const { domains } = await api('GET', domainsPath)
  renderDomains(domains)
}

handleForm(document.getElementById('domain-form'), async ({ domain }) => {
  setText('domains-status', '')
  const { domain: claim } = await api('POST', domainsPath, { domain })
  document.getElementById('domain-name').value = ''
  await loadDomains()
  setText('domains-status', `${claim.domain} is claimed. Publish its TXT record, then choose Verify.`)
})

document.getElementById('domains-body').addEventListener('click', async (event) => {
  const verifying = event.target.closest('[data-verify-domain]')?.dataset.verifyDomain
  const removing = event.target.closest('[data-remove-domain]')?.dataset.removeDomain
  if (!verifying && !removing) return
  setText('domains-error', '')
  setText('domains-status', '')
  try {
    if (verifying) {
      await api('POST', `${domainsPath}/${encodeURIComponent(verifying)}/verify`)
      setText('domains-status', `${verifying} is verified: its people are sent to your identity provider.`)
    } else {
      if (!confirm(`Remove ${removing}? Sign in with SSO stops sending its people here.`)) return
      await api('DELETE', `${domainsPath}/${encodeURIComponent(removing)}`)
      setText('domains-status', `${removing} was removed.`)
    }
    await loadDomains()
  } catch (error) {
    setText('domains-error', error.message)
  }
})

const outcomeLabels = { succeeded: 'Test passed', refused: 'Test refused' }

function renderTestSignIn(result) {
  show('sso-test-result', result !== null)
  if (!result) return
  const passed = result.outcome === 'succeeded' && result.memberCanSignIn
  const badge = document.getElementById('sso-test-outcome')
  badge.textContent = result.outcome === 'succeeded' && !passed ? 'Connection works' : outcomeLabels[result.outcome]
  badge.dataset.status = passed ? 'active' : result.outcome === 'refused' ? 'failing' : 'awaiting_idp'
  setText('sso-test-when', `at ${new Date(result.at).toLocaleString()}`)
  const refusal = result.refusal
  setText(
    'sso-test-summary',
    refusal
      ? `${refusal.message} (reference ${refusal.reference})`
      : `The identity provider signed in ${result.claims.email}, who can sign in to this workspace with SSO.`,
  )
  const claims = result.claims
  const facts = claims
    ? [
        ['Name ID', claims.nameId],
        ['Name ID format', claims.nameIdFormat ?? '—'],
        ['Email', claims.email],
        ['First name', claims.firstName ?? '—'],
        ['Last name', claims.lastName ?? '—'],
        ['Issuer', claims.issuer],
        ['Signed by (SHA-256)', claims.certificateFingerprint],
      ]
    : []
  document
    .getElementById('sso-test-claims')
    .replaceChildren(...facts.flatMap(([term, value]) => [element('dt', {}, term), element('dd', {}, value)]))
  show('sso-test-attributes', claims !== null)
  document
    .getElementById('sso-test-attributes-body')
    .replaceChildren(
      ...(claims?.attributes ?? []).map((attribute) =>
        element(
          'tr',
          {},
          element('td', { class: 'fingerprint' }, attribute.name),
          element('td', {}, attribute.values.join(', ')),
        ),
      ),
    )
}

async function loadTestSignIn() {
  const { testSignIn } = await api('GET', `${ssoPath}/test`)
  renderTestSignIn(testSignIn)
}

document.getElementById('sso-test').addEventListener('click', async (event) => {
  event.currentTarget.disabled = true
  setText('sso-test-error', '')
  try {
    const { redirectUrl } = await api('POST', `${ssoPath}/test`)
    location.assign(redirectUrl)
  } catch (error) {
    setText('sso-test-error', error.message)
    event.currentTarget.disabled = false
  }
})

const setupLinksPath = `/v1/workspaces/${workspaceId}/setup-links`
const setupLinkStatuses = { active: 'Active', expired: 'Expired', revoked: 'Revoked' }

async function loadSetupLinks() {
  if (!isOwner || setupMode) return
  const { setupLinks } = await api('GET', setupLinksPath)
  const rows = setupLinks.map((link) =>
    element(
      'tr',
      {},
      element('td', {}, new Date(link.createdAt).toLocaleString()),
      element('td', {}, new Date(link.expiresAt).toLocaleString()),
      element('td', {}, setupLinkStatuses[link.status] ?? link.status),
      element('td', {}, link.openedAt ? new Date(link.openedAt).toLocaleString() : 'Not yet'),
      element(
        'td',
        {},
        link.status === 'active'
          ? element(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'data-revoke-link': link.id,
                'aria-label': 'Revoke this setup link',
              },
              'Revoke',
            )
          : '',
      ),
    ),
  )
  document.getElementById('setup-links-body').replaceChildren(...rows)
}

document.getElementById('setup-link-create').addEventListener('click', async () => {
  setText('setup-links-error', '')
  try {
    const { setupLink } = await api('POST', setupLinksPath)
    document.getElementById('setup-link-url').value = setupLink.url
    show('setup-link-created')
    setText(
      'setup-links-status',
      'Setup link created. Copy it now and send it to your IT admin: it is not shown again.',
    )
    await loadSetupLinks()
  } catch (error) {
    setText('setup-links-error', error.message)
  }
})

document.getElementById('setup-links-body').addEventListener('click', async (event) => {
  const linkId = event.target.closest('[data-revoke-link]')?.dataset.revokeLink
  if (!linkId) return
  setText('setup-links-error', '')
  try {
    await api('DELETE', `${setupLinksPath}/${linkId}`)
    show('setup-link-created', false)
    setText('setup-links-status', 'The setup link was revoked: it no longer opens anything.')
    await loadSetupLinks()
  } catch (error) {
    setText('setup-links-error', error.message)
  }
})

load()
  .then(() => Promise.all([loadDomains(), loadSetupLinks()]))
  .catch((error) => setText('sso-page-error', error.message))
