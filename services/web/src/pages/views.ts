// The markup of each page. Server-rendered so every field has its label before any script runs;
// the page's module script adds behaviour (calls to /v1 through the gateway).
import { escapeHtml } from '@gatehouse/server/html'
import { defaultIdpKind, type IdpGuide, idpGuides } from './idp-guides.ts'

const errorRegion = (id: string) => `<div class="error" role="alert" id="${id}"></div>`
const statusRegion = (id: string) => `<div class="status" role="status" aria-live="polite" id="${id}"></div>`

export const loginView = `<section class="card narrow" aria-labelledby="login-title">
<h1 id="login-title">Sign in</h1>
<form id="login-form">
<label for="login-email">Email</label>
<input id="login-email" name="email" type="email" autocomplete="username" required>
<label for="login-password">Password</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required>
${errorRegion('login-error')}
<button type="submit" id="login-submit">Sign in</button>
</form>
<p><a href="/forgot-password" id="forgot-link">Forgot your password?</a></p>
<p class="divider"><span>or</span></p>
<button type="button" class="secondary wide" id="sso-start" aria-expanded="false" aria-controls="sso-form">Sign in with SSO</button>
<form id="sso-form" hidden>
<label for="sso-email">Work email</label>
<input id="sso-email" name="email" type="email" autocomplete="username" required aria-describedby="sso-hint">
<p class="hint" id="sso-hint">If your organization has verified your email’s domain, we take you to its identity provider.</p>
${errorRegion('sso-error')}
<button type="submit" id="sso-continue">Continue with SSO</button>
${statusRegion('sso-status')}
</form>
<p>New to Gatehouse? <a href="/signup" id="signup-link">Create an account</a></p>
</section>`

const passwordHint = 'At least 10 characters, and not a common password.'

export const signupView = `<section class="card narrow" aria-labelledby="signup-title">
<h1 id="signup-title">Create your account</h1>
<form id="signup-form">
<label for="signup-first-name">First name</label>
<input id="signup-first-name" name="firstName" autocomplete="given-name" maxlength="100">
<label for="signup-last-name">Last name</label>
<input id="signup-last-name" name="lastName" autocomplete="family-name" maxlength="100">
<label for="signup-email">Email</label>
<input id="signup-email" name="email" type="email" autocomplete="username" required>
<label for="signup-password">Password</label>
<input id="signup-password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="signup-password-hint">
<p class="hint" id="signup-password-hint">${passwordHint}</p>
${errorRegion('signup-error')}
<button type="submit" id="signup-submit">Create account</button>
</form>
<p>Already have an account? <a href="/login">Sign in</a></p>
</section>`

export const inviteView = `<section class="card narrow" aria-labelledby="invite-title">
<h1 id="invite-title">Join a workspace</h1>
${statusRegion('invite-status')}
${errorRegion('invite-error')}
<p id="invite-next" hidden><a class="button" id="invite-next-link" href="/">Go to your workspaces</a></p>
<div id="invite-details" hidden>
<p class="lead" id="invite-summary"><span id="invite-inviter"></span> invited <strong id="invite-email"></strong> to join <strong id="invite-workspace"></strong> as <span id="invite-role"></span>.</p>
<p id="invite-idp-scope"></p>
</div>
<div id="invite-signup" hidden>
<h2>Create your account to join</h2>
<form id="invite-signup-form">
<label for="invite-signup-email">Email</label>
<input id="invite-signup-email" name="email" type="email" autocomplete="username" readonly aria-describedby="invite-signup-email-hint">
<p class="hint" id="invite-signup-email-hint">The invitation is for this address.</p>
<label for="invite-first-name">First name</label>
<input id="invite-first-name" name="firstName" autocomplete="given-name" maxlength="100">
<label for="invite-last-name">Last name</label>
<input id="invite-last-name" name="lastName" autocomplete="family-name" maxlength="100">
<label for="invite-signup-password">Password</label>
<input id="invite-signup-password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="invite-password-hint invite-signup-password-error">
<p class="hint" id="invite-password-hint">${passwordHint}</p>
<p class="field-error" id="invite-signup-password-error"></p>
${errorRegion('invite-signup-error')}
<button type="submit" id="invite-signup-submit">Create account and join</button>
</form>
<p>Already have a Gatehouse account? <button type="button" class="link" id="invite-show-login">Sign in to accept</button></p>
</div>
<div id="invite-login" hidden>
<h2>Sign in to accept</h2>
<form id="invite-login-form">
<label for="invite-login-email">Email</label>
<input id="invite-login-email" name="email" type="email" autocomplete="username" readonly>
<label for="invite-login-password">Password</label>
<input id="invite-login-password" name="password" type="password" autocomplete="current-password" required>
${errorRegion('invite-login-error')}
<button type="submit" id="invite-login-submit">Sign in and accept</button>
</form>
<p>New to Gatehouse? <button type="button" class="link" id="invite-show-signup">Create your account to join</button></p>
<p>Did not create this account, or forgot its password? <button type="button" class="link" id="invite-show-reclaim">Choose a new password with this invitation</button></p>
</div>
<div id="invite-reclaim" class="alternative" hidden>
<h2>Choose a new password</h2>
<p>Your invitation shows the address is yours. If nobody has confirmed the account that holds it, choose a new password: whoever else signed in to it is signed out, and it leaves every workspace it belongs to (one it alone owns is deleted).</p>
<form id="invite-reclaim-form">
<label for="invite-reclaim-password">New password</label>
<input id="invite-reclaim-password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="invite-reclaim-password-hint invite-reclaim-password-error">
<p class="hint" id="invite-reclaim-password-hint">${passwordHint}</p>
<p class="field-error" id="invite-reclaim-password-error"></p>
${errorRegion('invite-reclaim-error')}
<button type="submit" id="invite-reclaim-submit">Set password and join</button>
</form>
</div>
<div id="invite-accept" hidden>
<p>You are signed in as <strong id="invite-signed-in-as"></strong>.</p>
${errorRegion('invite-accept-error')}
<button type="button" id="invite-accept-button">Accept invitation</button>
</div>
<div id="invite-wrong-account" hidden>
<p>You are signed in as <strong id="invite-other-account"></strong>, but this invitation is for another address.</p>
<button type="button" id="invite-sign-out">Sign out to continue</button>
</div>
<div id="invite-done" hidden>
<p class="success" id="invite-done-message"></p>
<p><a class="button" id="invite-open-workspace" href="/">Open the workspace</a></p>
</div>
</section>`

export const homeView = `<section class="card" aria-labelledby="home-title">
<h1 id="home-title">Your workspaces</h1>
${statusRegion('home-status')}
<ul class="workspaces" id="workspace-list" aria-labelledby="home-title"></ul>
<p><a href="/account/sessions" id="sessions-link">Your sessions</a></p>
</section>
<section class="card" id="pending-invitations" aria-labelledby="pending-invitations-title" hidden>
<h2 id="pending-invitations-title">Invitations waiting for you</h2>
<p class="hint">Once you accept, the workspace’s identity provider will be able to sign you in to that workspace.</p>
<ul class="workspaces" id="pending-invitations-list" aria-labelledby="pending-invitations-title"></ul>
${statusRegion('pending-invitations-status')}
${errorRegion('pending-invitations-error')}
</section>
<section class="card" aria-labelledby="create-workspace-title">
<h2 id="create-workspace-title">Create a workspace</h2>
<form id="create-workspace-form" class="inline">
<label for="workspace-name">Workspace name</label>
<input id="workspace-name" name="name" required maxlength="100">
<button type="submit" id="create-workspace-submit">Create workspace</button>
${errorRegion('create-workspace-error')}
</form>
</section>`

export function workspaceView(workspaceId: string): string {
  const id = escapeHtml(workspaceId)
  return `<section class="card" aria-labelledby="workspace-title">
<p class="breadcrumb"><a href="/">Workspaces</a></p>
<h1 id="workspace-title">Workspace</h1>
<p id="workspace-role"></p>
${statusRegion('workspace-status')}
${errorRegion('workspace-error')}
<p id="workspace-admin-links" hidden><a class="button secondary" id="sso-settings-link" href="/workspaces/${id}/sso">SSO settings</a> <a class="button secondary" id="audit-trail-link" href="/workspaces/${id}/audit">Audit trail</a> <span class="muted" id="sso-summary"></span></p>
<p class="warning" id="sso-attention" role="status" hidden></p>
<p id="leave-row" hidden><button type="button" class="danger" id="leave-workspace" aria-describedby="leave-hint">Leave this workspace</button></p>
<p class="hint" id="leave-hint" hidden>You lose access to it, and its identity provider can no longer sign you in to it. The last owner transfers the ownership first.</p>
${errorRegion('leave-error')}
</section>
<section class="card" id="members-section" aria-labelledby="members-title" hidden>
<h2 id="members-title">Members and invitations</h2>
<form id="invite-form" class="inline">
<label for="invite-email-input">Email to invite</label>
<input id="invite-email-input" name="email" type="email" required>
<label for="invite-role-select">Role</label>
<select id="invite-role-select" name="role"><option value="member">Member</option><option value="admin">Admin</option></select>
<button type="submit" id="invite-submit">Send invitation</button>
${errorRegion('invite-form-error')}
${statusRegion('invite-form-status')}
</form>
<table id="members-table" class="stack">
<caption>Members of this workspace. Those marked “SSO allowed” can sign in through the workspace’s identity provider. Owners make and unmake admins and transfer the ownership; admins remove members.</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">SSO</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="members-body"></tbody>
</table>
${statusRegion('members-status')}
${errorRegion('members-error')}
<table id="invitations-table" class="stack">
<caption>People invited to this workspace. An accepted invitation makes its person a member who can use SSO.</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="invitations-body"></tbody>
</table>
</section>`
}

/**
 * One variant per identity provider, only the default one visible until sso-settings.js shows the
 * connection's: `<span>`s inside labels (a hidden span is left out of the label's accessible name).
 */
function perIdp(render: (guide: IdpGuide) => string): string {
  return idpGuides
    .map(
      (guide) =>
        `<span data-idp-kind="${guide.kind}"${guide.kind === defaultIdpKind ? '' : ' hidden'}>${render(guide)}</span>`,
    )
    .join('')
}

function stepsPerIdp(steps: (guide: IdpGuide) => string[], where: (guide: IdpGuide) => string): string {
  return idpGuides
    .map(
      (guide) =>
        `<ol class="steps" data-idp-kind="${guide.kind}"${guide.kind === defaultIdpKind ? '' : ' hidden'} aria-label="${escapeHtml(where(guide))}">${steps(
          guide,
        )
          .map((step) => `<li>${step}</li>`)
          .join('')}</ol>`,
    )
    .join('\n')
}

/**
 * The SSO settings page; with no workspace id, the setup link's page (`/setup`): the same setup
 * steps, test and status, and none of what is marked `data-admin-only`.
 */
export function ssoSettingsView(workspaceId: string | null): string {
  const id = escapeHtml(workspaceId ?? '')
  const text = (value: string) => escapeHtml(value)
  const adminOnly = workspaceId === null ? ' hidden data-admin-only' : ' data-admin-only'
  return `<section class="card" aria-labelledby="sso-title">
<p class="breadcrumb"${adminOnly}><a href="/">Workspaces</a> › <a id="workspace-link" href="/workspaces/${id}">Workspace</a> › <a id="audit-link" href="/workspaces/${id}/audit">Audit trail</a></p>
<h1 id="sso-title">Single sign-on (SAML)</h1>
<p id="setup-intro" hidden>This setup link lets you set up single sign-on for <strong id="setup-workspace"></strong> until <span id="setup-expires"></span>: copy Gatehouse’s values into your identity provider, paste its values here, test the sign-in and see the status. It reaches nothing else, and the workspace owner is told what you do.</p>
${statusRegion('sso-page-status')}
${errorRegion('sso-page-error')}
<div id="sso-off" hidden>
<p>Let your members sign in through your identity provider: Microsoft Entra ID, Okta, Google Workspace or any SAML 2.0 IdP. Only people who signed up with a password and accepted an invitation to this workspace can use it.</p>
<button type="button" id="sso-turn-on">Turn on SSO</button>
</div>
</section>
<div id="sso-on" hidden>
<section class="card" aria-labelledby="idp-kind-title">
<h2 id="idp-kind-title">Your identity provider</h2>
<fieldset class="choices" id="idp-kind-picker">
<legend>The steps and field names below follow the identity provider you choose.</legend>
${idpGuides
  .map(
    (guide) =>
      `<label class="radio" for="idp-kind-${guide.kind}"><input type="radio" name="idpKind" id="idp-kind-${guide.kind}" value="${guide.kind}" data-possessive="${text(guide.possessive)}"${guide.kind === defaultIdpKind ? ' checked' : ''}> ${text(guide.name)}</label>`,
  )
  .join('\n')}
</fieldset>
${errorRegion('idp-kind-error')}
</section>
<section class="card" aria-labelledby="step-1-title">
<h2 id="step-1-title">1. Copy these values into ${perIdp((guide) => text(guide.kind === 'other' ? 'your identity provider' : guide.name))}</h2>
<div class="columns">
<div>
<label for="sp-entity-id">${perIdp((guide) => text(guide.spEntityId))}</label>
<div class="copy-row"><input id="sp-entity-id" readonly><button type="button" class="secondary" data-copy="sp-entity-id" id="copy-entity-id">Copy</button></div>
<label for="sp-acs-url">${perIdp((guide) => text(guide.spAcsUrl))}</label>
<div class="copy-row"><input id="sp-acs-url" readonly><button type="button" class="secondary" data-copy="sp-acs-url" id="copy-acs-url">Copy</button></div>
${statusRegion('copy-status')}
<p><a id="sp-metadata-download" href="#" download>Download the service provider metadata (XML)</a> — ${perIdp((guide) => guide.spMetadataHint)}</p>
</div>
${stepsPerIdp(
  (guide) => guide.setupSteps,
  (guide) => `In ${guide.kind === 'other' ? 'your identity provider' : guide.name}`,
)}
</div>
</section>
<section class="card" aria-labelledby="step-2-title">
<h2 id="step-2-title">2. Paste ${perIdp((guide) => text(guide.possessive))} values here</h2>
<div class="columns">
<form id="idp-form">
<label for="idp-login-url">${perIdp((guide) => text(guide.idpSsoUrl))}</label>
<input id="idp-login-url" name="ssoUrl" type="url" required aria-describedby="idp-login-url-error">
<p class="field-error" id="idp-login-url-error"></p>
<label for="idp-entity-id">${perIdp((guide) => text(guide.idpEntityId))}</label>
<input id="idp-entity-id" name="entityId" required aria-describedby="idp-entity-id-error">
<p class="field-error" id="idp-entity-id-error"></p>
<label for="idp-certificate">${perIdp((guide) => text(guide.idpCertificate))}</label>
<textarea id="idp-certificate" name="certificate" rows="6" required spellcheck="false" aria-describedby="idp-certificate-hint idp-certificate-error"></textarea>
<p class="hint" id="idp-certificate-hint">Paste the certificate’s text, or choose the downloaded file below.</p>
<label for="idp-certificate-file">${perIdp((guide) => text(guide.idpCertificateFile))}</label>
<input id="idp-certificate-file" type="file" accept=".cer,.cert,.crt,.pem">
<p class="field-error" id="idp-certificate-error"></p>
${errorRegion('idp-form-error')}
<button type="submit" id="idp-save">Save</button>
</form>
${stepsPerIdp(
  (guide) => guide.findSteps,
  (guide) => `Where to find these values in ${guide.kind === 'other' ? 'your identity provider' : guide.name}`,
)}
</div>
<form id="metadata-form" class="inline">
<label for="idp-metadata-file">${perIdp((guide) => text(guide.idpMetadataFile))}</label>
<input id="idp-metadata-file" name="metadataXml" type="file" accept=".xml,application/xml,text/xml" required>
<button type="submit" class="secondary" id="metadata-save">Save from metadata</button>
${errorRegion('metadata-form-error')}
</form>
<form id="metadata-url-form">
<label for="idp-metadata-url">${perIdp((guide) => text(guide.idpMetadataUrl))}</label>
<input id="idp-metadata-url" name="metadataUrl" type="url" required placeholder="https://" aria-describedby="idp-metadata-url-hint idp-metadata-url-error">
<p class="hint" id="idp-metadata-url-hint">Or give the metadata’s URL: Gatehouse re-reads it every 12 hours and adds a new certificate beside the current one (never removing one), and emails the owners about each change, or when it cannot be read or names another identifier or Login URL (then nothing changes until you save the URL again).</p>
<p class="field-error" id="idp-metadata-url-error"></p>
${errorRegion('metadata-url-form-error')}
<button type="submit" class="secondary" id="metadata-url-save">Save from metadata URL</button>
</form>
</section>
<section class="card" aria-labelledby="step-3-title">
<h2 id="step-3-title">3. Status</h2>
${statusRegion('sso-save-status')}
<dl class="facts">
<dt>Status</dt><dd><span class="badge" id="sso-status">—</span></dd>
<dt>Certificate fingerprint (SHA-256)</dt><dd id="idp-fingerprint">—</dd>
<dt>Certificate expires</dt><dd id="idp-expiry">—</dd>
<dt>Metadata URL</dt><dd><span id="idp-metadata-status">—</span> <button type="button" class="secondary" id="metadata-refresh" hidden>Refresh now</button></dd>
<dt>Sign-in link for your members</dt><dd><input id="sp-login-url" readonly aria-label="Sign-in link for your members"> <button type="button" class="secondary" data-copy="sp-login-url" id="copy-login-url">Copy</button></dd>
</dl>
<ul class="warnings" id="sso-warnings"></ul>
<div id="sso-test-block">
<h3 id="sso-test-title">Test sign-in</h3>
<p class="hint" id="sso-test-hint">Sign in through your identity provider as yourself: Gatehouse shows what it received, or exactly why it refused and what to change. Nobody is signed in and nothing changes.</p>
<p><button type="button" class="secondary" id="sso-test">Test sign-in</button></p>
${errorRegion('sso-test-error')}
<div id="sso-test-result" hidden>
<p><span class="badge" id="sso-test-outcome"></span> <span id="sso-test-when"></span></p>
<p id="sso-test-summary"></p>
<dl class="facts" id="sso-test-claims"></dl>
<div class="table-scroll" tabindex="0">
<table id="sso-test-attributes">
<caption>Attributes the identity provider sent</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Values</th></tr></thead>
<tbody id="sso-test-attributes-body"></tbody>
</table>
</div>
</div>
</div>
<div class="toggles"${adminOnly}>
<label class="checkbox" for="sso-enabled"><input type="checkbox" id="sso-enabled"> <span>Members can sign in through ${perIdp((guide) => text(guide.kind === 'other' ? 'your identity provider' : guide.name))}</span></label>
<label class="checkbox" for="sso-idp-initiated"><input type="checkbox" id="sso-idp-initiated"> <span>Allow sign-in started from ${perIdp((guide) => text(guide.idpInitiatedFrom))}</span></label>
<label class="checkbox" for="sso-email-from-attribute"><input type="checkbox" id="sso-email-from-attribute" aria-describedby="sso-email-from-attribute-hint"> Take the email from an attribute instead of the Name ID</label>
<p class="hint" id="sso-email-from-attribute-hint">For identity providers whose Name ID is persistent or transient by default (Okta, ADFS): the address is read from the <code>mail</code>, <code>email</code>, <code>urn:oid:0.9.2342.19200300.100.1.3</code> or <code>…/claims/emailaddress</code> attribute, and must be a valid email address.</p>
<label class="checkbox" for="sso-allow-sha1"><input type="checkbox" id="sso-allow-sha1" aria-describedby="sso-allow-sha1-warning"> Allow SHA-1 signatures (legacy identity providers only)</label>
<p class="warning" id="sso-allow-sha1-warning"><strong>Warning:</strong> SHA-1 is broken: forged signatures are within reach of a determined attacker, who could then sign in as any member. Turn this on only if your identity provider cannot sign with SHA-256, and off again as soon as it can. Only the workspace owner can turn it on.</p>
</div>
${errorRegion('sso-toggle-error')}
<p${adminOnly}><button type="button" class="danger" id="sso-remove">Remove SSO</button></p>
</section>
<section class="card" id="setup-links-section" aria-labelledby="setup-links-title" hidden data-admin-only data-owner-only>
<h2 id="setup-links-title">Setup link for your IT admin</h2>
<p class="hint">If someone else manages your identity provider, give them a setup link. For 7 days it opens this page’s setup only — copying the values, pasting the identity provider’s, testing and the status — without a Gatehouse account. What they save counts as your change: it is recorded in the audit trail as done through the link and emailed to you. Revoke it at any time.</p>
<p><button type="button" class="secondary" id="setup-link-create">Create setup link</button></p>
<div id="setup-link-created" hidden>
<label for="setup-link-url">New setup link (shown once: copy it now)</label>
<div class="copy-row"><input id="setup-link-url" readonly><button type="button" class="secondary" data-copy="setup-link-url" id="copy-setup-link">Copy</button></div>
</div>
<div class="table-scroll" tabindex="0">
<table id="setup-links-table">
<caption>Setup links of this workspace.</caption>
<thead><tr><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col">First opened</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="setup-links-body"></tbody>
</table>
</div>
${statusRegion('setup-links-status')}
${errorRegion('setup-links-error')}
</section>
<section class="card" aria-labelledby="certificates-title"${adminOnly}>
<h2 id="certificates-title">${perIdp((guide) => text(guide.possessive))} signing certificates</h2>
<p class="hint">When ${perIdp((guide) => text(guide.kind === 'other' ? 'your identity provider' : guide.name))} renews its certificate, add the new one here first: sign-ins signed with either are accepted. Remove the old one once the latest sign-in was signed by the new one.</p>
<div class="table-scroll" tabindex="0">
<table id="idp-certificates-table">
<caption>Certificates sign-ins are verified with.</caption>
<thead><tr><th scope="col">Fingerprint (SHA-256)</th><th scope="col">Valid from</th><th scope="col">Expires</th><th scope="col">Latest sign-in</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="idp-certificates-body"></tbody>
</table>
</div>
<form id="certificate-add-form">
<label for="certificate-add">New certificate (Base64 or PEM)</label>
<textarea id="certificate-add" name="certificate" rows="4" required spellcheck="false" aria-describedby="certificate-add-error"></textarea>
<p class="field-error" id="certificate-add-error"></p>
<button type="submit" class="secondary" id="certificate-add-submit">Add certificate</button>
</form>
${statusRegion('certificates-status')}
${errorRegion('certificates-error')}
</section>
<section class="card" aria-labelledby="sign-ins-title"${adminOnly}>
<h2 id="sign-ins-title">Sign-in history</h2>
<p id="sign-ins-health"><span class="badge" id="sign-ins-health-status">—</span> <span id="sign-ins-health-detail"></span></p>
<p class="warning" id="sign-ins-fix" hidden></p>
<form id="sign-ins-search" class="inline" role="search">
<label for="sign-ins-reference">Find a member’s reference</label>
<input id="sign-ins-reference" name="reference" placeholder="saml_invalid/issuer_mismatch" pattern="[a-z_]{1,64}(/[a-z_]{1,64})?" aria-describedby="sign-ins-reference-hint">
<p class="hint" id="sign-ins-reference-hint">The reference a refused member was shown, or just its first part.</p>
<button type="submit" class="secondary" id="sign-ins-search-submit">Search</button>
</form>
<div class="table-scroll" tabindex="0">
<table id="sign-ins-table">
<caption>SSO sign-ins of the last 30 days, newest first.</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Email</th><th scope="col">Outcome</th><th scope="col">Reference and reason</th><th scope="col">Started from</th><th scope="col">Signed by</th></tr></thead>
<tbody id="sign-ins-body"></tbody>
</table>
</div>
<p id="sign-ins-more-row" hidden><button type="button" class="secondary" id="sign-ins-more">Show older sign-ins</button></p>
${errorRegion('sign-ins-error')}
</section>
<section class="card" aria-labelledby="signing-title"${adminOnly}>
<h2 id="signing-title">Signed sign-in requests</h2>
<p class="hint">Some identity providers accept only signed sign-in requests (AuthnRequests). Gatehouse signs them with this connection’s own key (RSA-SHA256); its certificate is in the service provider metadata above.</p>
<p class="status" id="sso-idp-wants-signed" hidden>Your identity provider’s metadata asks for signed requests (<code>WantAuthnRequestsSigned</code>), so signing was turned on.</p>
<label class="checkbox" for="sso-sign-requests"><input type="checkbox" id="sso-sign-requests"> Sign sign-in requests</label>
<div class="table-scroll" tabindex="0">
<table id="signing-keys-table">
<caption>Signing certificates published in the service provider metadata, newest first. After a rotation the new key signs at once, and the old certificate stays published until you retire it: retire it once your identity provider has the new one.</caption>
<thead><tr><th scope="col">Fingerprint (SHA-256)</th><th scope="col">Expires</th><th scope="col">Use</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="signing-keys-body"></tbody>
</table>
</div>
<p><button type="button" class="secondary" id="signing-key-rotate">Rotate signing key</button></p>
${errorRegion('signing-error')}
${statusRegion('signing-status')}
</section>
<section class="card" aria-labelledby="domains-title"${adminOnly}>
<h2 id="domains-title">Domains</h2>
<p class="hint">When someone chooses <strong>Sign in with SSO</strong> with an email at one of your verified domains, they go straight to your identity provider. Prove the domain is yours by publishing a DNS TXT record; a domain belongs to the first workspace that verifies it. Only the workspace owner can manage domains.</p>
<div class="table-scroll" tabindex="0">
<table id="domains-table">
<caption>Claimed domains. Publish each pending domain’s TXT record at your DNS provider, then verify it.</caption>
<thead><tr><th scope="col">Domain</th><th scope="col">Status</th><th scope="col">TXT record to publish</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="domains-body"></tbody>
</table>
</div>
<form id="domain-form" class="inline" hidden>
<label for="domain-name">Domain to claim</label>
<input id="domain-name" name="domain" required maxlength="253" placeholder="example.com" autocomplete="off" spellcheck="false">
<button type="submit" class="secondary" id="domain-claim">Claim domain</button>
${errorRegion('domain-form-error')}
</form>
${errorRegion('domains-error')}
${statusRegion('domains-status')}
</section>
</div>`
}

export function auditView(workspaceId: string): string {
  const id = escapeHtml(workspaceId)
  return `<section class="card" aria-labelledby="audit-title">
<p class="breadcrumb"><a href="/">Workspaces</a> › <a id="workspace-link" href="/workspaces/${id}">Workspace</a> › <a href="/workspaces/${id}/sso">SSO settings</a></p>
<h1 id="audit-title">Audit trail</h1>
<p class="hint">Every change to this workspace’s configuration — single sign-on, certificates (by fingerprint), requiring SSO, domains, invitations, members and roles, setup links — with who made it, how they signed in, from which address, and what changed.</p>
${statusRegion('audit-status')}
${errorRegion('audit-error')}
<div class="table-scroll" tabindex="0">
<table id="audit-table">
<caption>Changes, newest first.</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Change</th><th scope="col">From</th></tr></thead>
<tbody id="audit-body"></tbody>
</table>
</div>
<p id="audit-more-row" hidden><button type="button" class="secondary" id="audit-more">Show older changes</button></p>
</section>`
}

// The link in the email of a first sign-in through a workspace's IdP; the token is in the fragment.
export const endSessionView = `<section class="card narrow" aria-labelledby="end-session-title">
<h1 id="end-session-title">End a sign-in</h1>
<p class="lead">A workspace’s identity provider signed you in, and we emailed you about it. If that was not you, end that session here: it stops working at once. Nothing else changes.</p>
<form id="end-session-form">
${errorRegion('end-session-error')}
<button type="submit" id="end-session-submit">End that session</button>
</form>
${statusRegion('end-session-status')}
<div id="end-session-done" hidden>
<p>If you did not sign in, tell the workspace’s owner: whoever controls its identity provider can sign people in to it.</p>
<p><a href="/login">Sign in</a></p>
</div>
</section>`

export const notFoundView = `<section class="card narrow" aria-labelledby="not-found-title">
<h1 id="not-found-title">Page not found</h1>
<p>There is no page at this address.</p>
<p><a class="button" href="/">Go to your workspaces</a></p>
</section>`

export const sessionsView = `<section class="card" aria-labelledby="sessions-title">
<p class="breadcrumb"><a href="/">Workspaces</a></p>
<h1 id="sessions-title">Your sessions</h1>
<p class="hint">Every browser signed in to your account, by password or through a workspace’s SSO. End any you do not recognise; change your password too if you did not sign in there.</p>
${statusRegion('sessions-status')}
${errorRegion('sessions-error')}
<table id="sessions-table" class="stack">
<caption>Live sessions, newest first.</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Signed in with</th><th scope="col">Address</th><th scope="col">Started</th><th scope="col">Last active</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="sessions-body"></tbody>
</table>
<p><button type="button" class="danger" id="end-other-sessions">End all other sessions</button></p>
</section>`
