// The journey of issue 6 in a real browser (Debian's Chromium headless shell, driven by
// playwright-core): an admin sets up SSO with the dev IdP standing in for Microsoft Entra, invites
// bob, and bob signs in through SSO only once he has signed up with a password and accepted the
// invitation. Then
// issue 14's admin keeping SSO healthy: the sign-in history and its Failing status, a test
// sign-in, the audit trail, a setup link, a certificate near its end rolled over with overlap,
// and the metadata URL.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateSigningKeys, type SigningKeys } from '@gatehouse/dev-idp'
import { eventually, uniqueSuffix } from '@gatehouse/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Stack, startStack } from '../support/stack.ts'
import { accessibilityViolations, focusIsVisible, launchChromium, pageWidth, password, screenshot } from './browser.ts'

/** Fields (inputs, selects, text areas) without an accessible label, hidden ones included. */
function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((field) => (field as HTMLInputElement).type !== 'hidden')
      .filter((field) => {
        const labels = (field as HTMLInputElement).labels
        const hasLabel = labels !== null && [...labels].some((label) => (label.textContent ?? '').trim() !== '')
        return !hasLabel && !field.getAttribute('aria-label') && !field.getAttribute('aria-labelledby')
      })
      .map((field) => field.id || field.outerHTML),
  )
}

async function assertLabelled(page: Page) {
  assert.deepEqual(await unlabelledFields(page), [], `unlabelled fields on ${page.url()}`)
}

async function assertAccessible(page: Page) {
  assert.deepEqual(await accessibilityViolations(page), [], `axe-core violations on ${page.url()}`)
}

/** The console errors a page logs (failed requests among them), with the address each came from. */
function collectConsoleErrors(page: Page, into: string[]) {
  page.on('console', (message) => {
    if (message.type() === 'error') into.push(`${message.location().url} ${message.text()}`)
  })
}

const dayMs = 24 * 60 * 60 * 1000

/** A certificate as the SSO page shows it: its SHA-256 fingerprint and its dates. */
function describeCertificate(keys: SigningKeys) {
  const certificate = new X509Certificate(keys.certificatePem)
  return {
    fingerprint: certificate.fingerprint256,
    validFrom: certificate.validFromDate.toUTCString(),
    expiresOn: certificate.validToDate.toUTCString(),
  }
}

/** Presses Tab until the element with this id has focus; fails if it never does. */
async function tabTo(page: Page, id: string, limit = 25) {
  for (let presses = 0; presses < limit; presses++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((wanted) => document.activeElement?.id === wanted, id)) return
  }
  assert.fail(`Tab never reached #${id} on ${page.url()}`)
}

describe('the browser journey: SSO set up by an admin, used by an invited member', { timeout: 240_000 }, () => {
  let stack: Stack
  let browser: Browser
  const suffix = uniqueSuffix()
  const admin = { email: `admin-${suffix}@example.test` }
  // Bob's company domain is the workspace's to claim; each run has its own, as domains are global.
  const bobDomain = `acme-${suffix}.test`
  const bob = { email: `bob@${bobDomain}`, firstName: 'Bob', lastName: 'Builder' }
  const workspaceName = `Acme ${suffix}`
  let adminContext: BrowserContext
  let adminPage: Page
  let workspaceUrl = ''
  let memberSignInLink = ''
  const consoleErrors: string[] = []

  before(async () => {
    stack = await startStack()
    browser = await launchChromium()
    adminContext = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } })
    await adminContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.webUrl })
    adminPage = await adminContext.newPage()
    collectConsoleErrors(adminPage, consoleErrors)
  })

  after(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('the admin signs up and creates a workspace', async () => {
    const page = adminPage
    await page.goto(`${stack.webUrl}/login`)
    await assertLabelled(page)
    await screenshot(page, 'login', { commit: true })
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.waitForURL('**/signup')
    await assertLabelled(page)
    await screenshot(page, 'signup')
    await page.getByLabel('First name').fill('Ada')
    await page.getByLabel('Last name').fill('Admin')
    await page.getByLabel('Email').fill(admin.email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL(`${stack.webUrl}/`)
    await page.getByText('You are not in a workspace yet').waitFor()
    await assertLabelled(page)
    await screenshot(page, 'home-empty')
    await page.getByLabel('Workspace name').fill(workspaceName)
    await page.getByRole('button', { name: 'Create workspace' }).click()
    await page.waitForURL('**/workspaces/*')
    workspaceUrl = page.url()
    await page.getByRole('heading', { name: workspaceName }).waitFor()
    await assertLabelled(page)
    await screenshot(page, 'workspace')
  })

  it('turns SSO on, copies the Identifier and Reply URL into the IdP, and pastes its three values back', async () => {
    const page = adminPage
    await page.getByText('SSO is not set up yet.').waitFor()
    await page.getByRole('link', { name: 'SSO settings' }).click()
    await page.waitForURL('**/sso')
    await page.getByRole('button', { name: 'Turn on SSO' }).waitFor()
    await assertLabelled(page)
    await screenshot(page, 'sso-settings-off')
    await page.getByRole('button', { name: 'Turn on SSO' }).click()
    await page.locator('#sp-entity-id:not([value=""])').waitFor()
    await page.waitForFunction(() => (document.getElementById('sp-entity-id') as HTMLInputElement).value !== '')
    // One status, the same on both pages, until the IdP's values are saved.
    assert.equal(await page.locator('#sso-status').textContent(), 'Waiting for Microsoft Entra’s values')
    assert.equal(await page.locator('#sso-enabled').isDisabled(), true)
    // Entra's steps keep its default claims, which Gatehouse reads as they are.
    await page
      .locator('li', { hasText: 'Gatehouse reads its default givenname, surname and emailaddress claims as they are' })
      .waitFor()
    await screenshot(page, 'sso-settings-before-save', { commit: true })

    // The picker: each IdP's own field names and steps, the choice saved with the connection. Names
    // are read as assistive technology reads them (a label's hidden variants are not part of it).
    await page.locator('#idp-kind-okta').check()
    await page.getByText('Showing the steps for Okta.').waitFor()
    const oktaFields: [string, string][] = [
      ['Single sign-on URL', 'sp-acs-url'],
      ['Audience URI (SP Entity ID)', 'sp-entity-id'],
      ['Identity Provider Single Sign-On URL', 'idp-login-url'],
      ['Identity Provider Issuer', 'idp-entity-id'],
      ['X.509 Certificate', 'idp-certificate'],
    ]
    for (const [label, id] of oktaFields) {
      assert.equal(await page.getByRole('textbox', { name: label, exact: true }).getAttribute('id'), id, label)
    }
    assert.equal(await page.getByText('Create App Integration').isVisible(), true)
    assert.equal(await page.getByText('Basic SAML Configuration').isVisible(), false)
    await page.reload()
    await page.waitForFunction(() => (document.getElementById('idp-kind-okta') as HTMLInputElement).checked)
    assert.equal(
      await page.getByRole('textbox', { name: 'Single sign-on URL', exact: true }).getAttribute('id'),
      'sp-acs-url',
    )
    await page.locator('#idp-kind-google').check()
    await page.getByText('Showing the steps for Google Workspace.').waitFor()
    assert.equal(await page.getByRole('textbox', { name: 'ACS URL', exact: true }).getAttribute('id'), 'sp-acs-url')
    assert.equal(await page.getByRole('textbox', { name: 'SSO URL', exact: true }).getAttribute('id'), 'idp-login-url')
    await assertLabelled(page)
    await page.locator('#idp-kind-entra').check()
    await page.getByText('Showing the steps for Microsoft Entra ID.').waitFor()

    await page.getByRole('button', { name: 'Copy' }).first().click()
    await page.getByText('Identifier (Entity ID) copied.').waitFor()
    const identifier = await page.evaluate(() => navigator.clipboard.readText())
    await page.locator('#copy-acs-url').click()
    await page.getByText('Reply URL (Assertion Consumer Service URL) copied.').waitFor()
    const replyUrl = await page.evaluate(() => navigator.clipboard.readText())
    assert.match(identifier, new RegExp(`^${stack.webUrl}/sso/saml/[0-9a-f-]{36}$`))
    assert.equal(replyUrl, `${identifier}/acs`)

    // In "Entra" (the dev IdP): Basic SAML Configuration, then the three values to copy.
    const idpPage = await adminContext.newPage()
    await idpPage.goto(stack.devIdpUrl)
    await idpPage.locator('#identifier').fill(identifier)
    await idpPage.locator('#reply-url').fill(replyUrl)
    await idpPage.locator('#save-application').click()
    await idpPage.locator('#applications').waitFor()
    const loginUrl = await idpPage.locator('#login-url').inputValue()
    const entraIdentifier = await idpPage.locator('#entra-identifier').inputValue()
    const download = idpPage.waitForEvent('download')
    await idpPage.locator('#certificate-download').click()
    const certificateFile = join(stack.dataDir, 'entra-certificate.cer')
    await (await download).saveAs(certificateFile)
    await screenshot(idpPage, 'dev-idp-application')
    await idpPage.close()

    await page.bringToFront()
    await page.getByLabel('Login URL').fill(loginUrl)
    await page.getByLabel('Microsoft Entra Identifier').fill(entraIdentifier)
    await page.getByLabel('Certificate file (.cer)').setInputFiles(certificateFile)
    await page.waitForFunction(() =>
      (document.getElementById('idp-certificate') as HTMLTextAreaElement).value.includes('BEGIN CERTIFICATE'),
    )
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByText('Saved. SSO is active').waitFor()
    assert.equal(await page.locator('#sso-status').textContent(), 'Active')
    assert.match((await page.locator('#idp-fingerprint').textContent()) ?? '', /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/i)
    assert.notEqual(await page.locator('#idp-expiry').textContent(), '—')
    memberSignInLink = await page.locator('#sp-login-url').inputValue()
    assert.equal(memberSignInLink, `${identifier}/login`)
    await assertLabelled(page)
    await screenshot(page, 'sso-settings-after-save', { commit: true })
  })

  it('invites bob, and shows the invitation as pending', async () => {
    const page = adminPage
    await page.goto(workspaceUrl)
    await page.getByLabel('Email to invite').fill(bob.email)
    await page.getByLabel('Role').selectOption('member')
    await page.getByRole('button', { name: 'Send invitation' }).click()
    await page.getByText(`Invitation sent to ${bob.email}.`).waitFor()
    const row = page.locator(`tr[data-email="${bob.email}"]`)
    await row.getByText('Invited').waitFor()
    await screenshot(page, 'workspace-invitations')
  })

  let bobContext: BrowserContext
  let bobPage: Page

  it('refuses SSO to bob before he accepts, with a page that says what to do', async () => {
    bobContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    bobPage = await bobContext.newPage()
    collectConsoleErrors(bobPage, consoleErrors)
    const page = bobPage

    // From the login page, discovery finds nothing for his domain yet and says why.
    await page.goto(`${stack.webUrl}/login`)
    await page.getByRole('button', { name: 'Sign in with SSO' }).click()
    await page.getByLabel('Work email').fill(bob.email)
    await page.getByRole('button', { name: 'Continue with SSO' }).click()
    await page.getByText(`SSO is not set up for ${bob.email}’s domain`).waitFor()

    // Through the workspace's sign-in link, Entra signs him in, and Gatehouse refuses.
    await page.goto(memberSignInLink)
    await page.locator('#email').fill(bob.email)
    await page.locator('#first-name').fill(bob.firstName)
    await page.locator('#last-name').fill(bob.lastName)
    const refused = page.waitForResponse((response) => response.url().endsWith('/acs'))
    await page.locator('#sign-in').click()
    assert.equal((await refused).status(), 403)
    await page.getByRole('heading', { name: 'You can’t use SSO for this workspace yet' }).waitFor()
    assert.equal(await page.locator('#refusal-message').getAttribute('data-code'), 'sso_not_allowed')
    assert.match((await page.locator('#refusal-message').textContent()) ?? '', /accept your invitation/i)
    await page.getByRole('banner').waitFor()
    await page.getByRole('link', { name: 'Back to sign in' }).waitFor()
    await screenshot(page, 'sso-refusal', { commit: true })
    const session = await page.request.get(`${stack.webUrl}/v1/auth/session`)
    assert.equal(session.status(), 401)
  })

  it('bob opens the invitation link from the email, signs up with a password and accepts', async () => {
    const page = bobPage
    const link = await stack.invitationLink(bob.email)
    assert.ok(link.startsWith(`${stack.webUrl}/invite#token=`), link)
    await page.goto(link)
    await page.getByRole('heading', { name: 'Create your account to join' }).waitFor()
    assert.equal(await page.locator('#invite-workspace').textContent(), workspaceName)
    assert.equal(
      await page.locator('#invite-idp-scope').textContent(),
      `${workspaceName}’s identity provider will be able to sign you in to ${workspaceName}.`,
    )
    assert.equal(await page.locator('#invite-email').textContent(), bob.email)
    assert.equal(await page.getByLabel('Email').first().inputValue(), bob.email)
    await assertLabelled(page)
    await screenshot(page, 'invite')
    await page.getByLabel('First name').fill(bob.firstName)
    await page.getByLabel('Last name').fill(bob.lastName)
    await page.getByLabel('Password', { exact: true }).first().fill(password)
    await page.getByRole('button', { name: 'Create account and join' }).click()
    await page.getByText(`You are now a member of ${workspaceName}`).waitFor({ timeout: 20_000 })
    await screenshot(page, 'invite-accepted')
    // Reopened, the link says it was used and leads on, under the same header.
    await page.goto('about:blank')
    await page.goto(link)
    await page.getByText('This invitation was already accepted.').waitFor()
    await page.getByRole('link', { name: `Open ${workspaceName}` }).waitFor()
    await page.getByRole('banner').waitFor()
  })

  it('the owner claims bob’s company domain on the SSO page, publishes its TXT record and verifies it', async () => {
    const page = adminPage
    await page.goto(`${workspaceUrl}/sso`)
    await page.getByRole('heading', { name: 'Domains' }).waitFor()
    await page.getByLabel('Domain to claim').fill(bobDomain.toUpperCase())
    await page.getByRole('button', { name: 'Claim domain' }).click()
    await page.getByText(`${bobDomain} is claimed. Publish its TXT record, then choose Verify.`).waitFor()
    const row = page.locator(`tr[data-domain="${bobDomain}"]`)
    await row.getByText('Pending').waitFor()
    const [recordName, recordValue] = await row.locator('code').allTextContents()
    assert.equal(recordName, `_gatehouse-challenge.${bobDomain}`)
    assert.match(recordValue ?? '', /^gatehouse-verification=/)
    // Verifying before the record is published says what is missing.
    await row.getByRole('button', { name: 'Verify' }).click()
    await page.getByText('The TXT record was not found.').waitFor()
    stack.dns.setTxt(recordName ?? '', [recordValue ?? ''])
    await row.getByRole('button', { name: 'Verify' }).click()
    await page.getByText(`${bobDomain} is verified`).waitFor()
    await row.getByText('Verified').waitFor()
    await assertLabelled(page)
    await screenshot(page, 'sso-settings-domains')
  })

  it('bob signs out, clicks Sign in with SSO, passes the IdP and lands signed in to the workspace', async () => {
    const page = bobPage
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL('**/login')
    await page.getByRole('button', { name: 'Sign in with SSO' }).click()
    await page.getByLabel('Work email').fill(bob.email)
    await page.getByRole('button', { name: 'Continue with SSO' }).click()
    await page.waitForURL(`${stack.devIdpUrl}/**`)
    await screenshot(page, 'dev-idp-sign-in')
    // The email typed at Gatehouse went along as login_hint: the IdP's sign-in page has it already.
    assert.equal(await page.locator('#email').inputValue(), bob.email)
    await page.locator('#sign-in').click()
    await page.waitForURL(workspaceUrl)
    await page.getByRole('heading', { name: workspaceName }).waitFor()
    assert.equal(await page.locator('#signed-in-as').textContent(), bob.email)
    await page.getByText('You can sign in to it with SSO.').waitFor()
    await screenshot(page, 'signed-in-with-sso')
    const session = await (await page.request.get(`${stack.webUrl}/v1/auth/session`)).json()
    assert.equal(session.user.email, bob.email)
    assert.deepEqual(
      session.memberships.map((membership: { workspaceName: string; role: string }) => [
        membership.workspaceName,
        membership.role,
      ]),
      [[workspaceName, 'member']],
    )
  })

  it('the admin sees bob as a joined member with SSO, and can resend and revoke an invitation', async () => {
    const page = adminPage
    await page.goto(workspaceUrl)
    await page.locator(`tr[data-email="${bob.email}"] td.status-accepted`).getByText('Joined').waitFor()
    await page.locator(`tr[data-member-email="${bob.email}"]`).getByText('SSO allowed').waitFor()
    const carol = `carol-${suffix}@example.test`
    await page.getByLabel('Email to invite').fill(carol)
    await page.getByLabel('Role').selectOption('admin')
    await page.getByRole('button', { name: 'Send invitation' }).click()
    const row = page.locator(`tr[data-email="${carol}"]`)
    await row.getByText('Invited').waitFor()
    await row.getByRole('button', { name: `Resend the invitation of ${carol}` }).click()
    await page.getByText(`The invitation was sent again to ${carol}.`).waitFor()
    await row.getByRole('button', { name: `Revoke the invitation of ${carol}` }).click()
    await page.getByText(`The invitation of ${carol} is revoked.`).waitFor()
    await row.getByText('Revoked').waitFor()
    await assertLabelled(page)
    await screenshot(page, 'workspace-members')
  })

  it('the admin allows sign-in started from Entra; bob starts it there, confirms, and lands in the workspace', async () => {
    const page = adminPage
    await page.goto(`${workspaceUrl}/sso`)
    await page.locator('#sso-status', { hasText: 'Active' }).waitFor()
    await page.getByLabel('Allow sign-in started from Entra (My Apps tile)').check()
    await page.locator('#sso-save-status', { hasText: 'Saved.' }).waitFor()

    // As from Entra's My Apps: the dev IdP's Test sign-in posts an unsolicited response.
    await bobContext.clearCookies()
    await bobPage.goto(stack.devIdpUrl)
    const application = bobPage.locator(`li[data-identifier="${memberSignInLink.replace(/\/login$/, '')}"]`)
    await application.getByLabel('Email').fill(bob.email)
    await application.getByRole('button', { name: 'Test sign-in' }).click()
    await bobPage.getByRole('heading', { name: `Continue as ${bob.email} into ${workspaceName}?` }).waitFor()
    await bobPage.getByRole('button', { name: `Continue as ${bob.email}` }).click()
    await bobPage.waitForURL(workspaceUrl)
    assert.equal(await bobPage.locator('#signed-in-as').textContent(), bob.email)
  })

  it('the admin sees the sign-ins on the SSO page, finds bob’s refusal by its reference, and which certificate signed', async () => {
    const page = adminPage
    const history = page.locator('#sign-ins-body')
    const bobSignedIn = history.locator('tr', { hasText: bob.email }).filter({ hasText: 'Signed in' }).first()
    // The history is a projection of the login events, so bob's sign-in reaches it a moment after it
    // happened (more on a busy machine); the page reads it when it loads, so it is reloaded until then.
    await eventually('bob’s sign-in in the SSO page’s history', async () => {
      await page.goto(`${workspaceUrl}/sso`)
      return await bobSignedIn.waitFor({ timeout: 3_000 }).then(
        () => true,
        () => undefined,
      )
    })
    assert.equal(await page.locator('#sign-ins-health-status').textContent(), 'Healthy')
    // Started from Gatehouse and from the IdP, each said.
    for (const initiation of ['Gatehouse', 'Identity provider']) {
      await history.locator('tr', { hasText: bob.email }).filter({ hasText: initiation }).first().waitFor()
    }
    await page
      .locator('#idp-certificates-body tr', { hasText: 'Signed the latest sign-in' })
      .locator('td.fingerprint')
      .waitFor()
    await page.getByLabel('Find a member’s reference').fill('sso_not_allowed/not_a_member')
    await page.getByRole('button', { name: 'Search' }).click()
    // The search answers with bob's refusal alone: his successful sign-in leaves the table.
    await history.locator('tr', { hasText: 'Signed in' }).first().waitFor({ state: 'detached' })
    await history
      .locator('tr', { hasText: 'sso_not_allowed/not_a_member' })
      .filter({ hasText: bob.email })
      .first()
      .waitFor()
    assert.equal(await page.locator('#sign-ins-more').isVisible(), false, 'no older page to offer')
    await assertLabelled(page)
    await screenshot(page, 'sso-sign-in-history', { commit: true })
    // The history table scrolls inside its card rather than widening the page on a phone.
    await page.setViewportSize({ width: 390, height: 900 })
    const historyCard = await page.evaluate(() => {
      const card = document.getElementById('sign-ins-title')?.closest('section')
      return card ? card.getBoundingClientRect().right : Number.NaN
    })
    assert.ok(historyCard <= 390, `the sign-in history card ends at ${historyCard} px`)
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('a wrong Entra Identifier: bob is refused with a reference, the SSO page turns Failing and says what to fix', async () => {
    const page = adminPage
    const saveIdentifier = async (identifier: string) => {
      await page.goto(`${workspaceUrl}/sso`)
      await page.locator('#sso-status', { hasText: 'Active' }).waitFor()
      await page.getByLabel('Microsoft Entra Identifier').fill(identifier)
      await page.getByLabel('Certificate file (.cer)').setInputFiles(join(stack.dataDir, 'entra-certificate.cer'))
      await page.waitForFunction(() =>
        (document.getElementById('idp-certificate') as HTMLTextAreaElement).value.includes('BEGIN CERTIFICATE'),
      )
      await page.getByRole('button', { name: 'Save', exact: true }).click()
      await page.getByText('Saved. SSO is active').waitFor()
    }
    await page.goto(`${workspaceUrl}/sso`)
    await page.locator('#sso-status', { hasText: 'Active' }).waitFor()
    const rightIdentifier = await page.getByLabel('Microsoft Entra Identifier').inputValue()
    assert.match(rightIdentifier, /^https:\/\/sts\.windows\.net\//)
    await saveIdentifier('https://sts.windows.net/00000000-0000-4000-8000-000000000000/')

    // Failing takes 3 refusals that are half of the hour's sign-ins at least: bob tries 4 times.
    for (let attempt = 0; attempt < 4; attempt++) {
      await bobContext.clearCookies()
      await bobPage.goto(memberSignInLink)
      await bobPage.locator('#email').fill(bob.email)
      await bobPage.locator('#sign-in').click()
      await bobPage.locator('#refusal-reason', { hasText: 'saml_invalid/issuer_mismatch' }).waitFor()
    }
    assert.match(
      (await bobPage.locator('#refusal-steps').textContent()) ?? '',
      /tell your workspace admin the reference below/,
    )

    const badge = page.locator('#sign-ins-health-status')
    await eventually('the SSO page’s sign-ins Failing', async () => {
      await page.goto(`${workspaceUrl}/sso`)
      return await badge
        .filter({ hasText: 'Failing' })
        .waitFor({ timeout: 3_000 })
        .then(
          () => true,
          () => undefined,
        )
    })
    assert.match(
      (await page.locator('#sign-ins-fix').textContent()) ?? '',
      /^What to fix \(saml_invalid\/issuer_mismatch\): .*Check the Microsoft Entra Identifier of this connection\.$/,
    )
    await page.getByLabel('Find a member’s reference').fill('saml_invalid/issuer_mismatch')
    await page.getByRole('button', { name: 'Search' }).click()
    // The refusals alone (their email unknown: the response was not believed).
    await page.locator('#sign-ins-body tr', { hasText: 'Signed in' }).first().waitFor({ state: 'detached' })
    const refusals = page.locator('#sign-ins-body tr', { hasText: 'saml_invalid/issuer_mismatch' })
    await refusals.nth(3).waitFor()
    assert.equal(await page.locator('#sign-ins-body tr').count(), 4)
    await assertLabelled(page)
    await assertAccessible(page)
    await screenshot(page, 'sso-sign-ins-failing', { commit: true })

    // Fixed, bob is in again.
    await saveIdentifier(rightIdentifier)
    await bobContext.clearCookies()
    await bobPage.goto(memberSignInLink)
    await bobPage.locator('#email').fill(bob.email)
    await bobPage.locator('#sign-in').click()
    await bobPage.waitForURL(workspaceUrl)
  })

  it('the admin tests the sign-in from the SSO page: the claims are shown, and no session is opened or changed', async () => {
    const page = adminPage
    await page.goto(`${workspaceUrl}/sso`)
    const sessionBefore = (await adminContext.cookies()).find((cookie) => cookie.name === 'session')?.value
    await page.getByRole('button', { name: 'Test sign-in' }).click()
    await page.waitForURL(`${stack.devIdpUrl}/**`)
    // The IdP names bob, a member whose address is proven and who may use SSO: the test passes.
    await page.locator('#email').fill(bob.email)
    await page.locator('#first-name').fill(bob.firstName)
    await page.locator('#last-name').fill(bob.lastName)
    await page.locator('#sign-in').click()
    await page.waitForURL(`${workspaceUrl}/sso`)
    await page.locator('#sso-test-outcome', { hasText: 'Test passed' }).waitFor()
    const claims = await page.locator('#sso-test-claims').textContent()
    assert.match(claims ?? '', new RegExp(`Name ID${bob.email.replace(/[.]/g, '\\.')}`))
    assert.match(claims ?? '', new RegExp(`First name${bob.firstName}`))
    await page.locator('#sso-test-attributes-body tr').first().waitFor()
    const sessionAfter = (await adminContext.cookies()).find((cookie) => cookie.name === 'session')?.value
    assert.equal(sessionAfter, sessionBefore, 'the session cookie is unchanged')
    await assertLabelled(page)
    await assertAccessible(page)
    await page.locator('#sso-test-title').scrollIntoViewIfNeeded()
    await screenshot(page, 'sso-test-sign-in', { commit: true })
  })

  it('the admin reads the audit trail: who changed what, from where, certificates by fingerprint', async () => {
    const page = adminPage
    await page.goto(workspaceUrl)
    await page.getByRole('link', { name: 'Audit trail' }).click()
    await page.waitForURL('**/audit')
    const body = page.locator('#audit-body')
    // Invitations reach the trail through the invitation service's events: reloaded until they have.
    await eventually('the invitations in the audit trail', async () => {
      await page.reload()
      return await body
        .locator('tr', { hasText: 'invitation.revoked' })
        .waitFor({ timeout: 3_000 })
        .then(
          () => true,
          () => undefined,
        )
    })
    for (const action of [
      'sso.created',
      'sso.idp_configured',
      'domain.claimed',
      'domain.verified',
      'invitation.created',
      'invitation.resent',
      'membership.joined',
      'sso.updated',
      'sso.test_sign_in',
    ]) {
      await body.locator('tr', { hasText: action }).first().waitFor()
    }
    // The IdP's values were saved three times (set up, a wrong identifier, put right): the latest.
    const configured = (await body.locator('tr', { hasText: 'sso.idp_configured' }).first().textContent()) ?? ''
    assert.match(configured, /certificateFingerprints: [0-9A-F]{2}(:[0-9A-F]{2}){31}/)
    assert.ok(!configured.includes('BEGIN CERTIFICATE'))
    assert.match(configured, new RegExp(`${admin.email.replace(/[.]/g, '\\.')} \\(password\\)`))
    assert.match(configured, /127\.0\.0\.1/)
    await assertAccessible(page)
    await screenshot(page, 'audit-trail', { commit: true })
  })

  let setupLink = ''
  it("the owner gives the IT admin a setup link: without an account they save the IdP's metadata, test, and reach nothing else", async () => {
    const page = adminPage
    await page.goto(`${workspaceUrl}/sso`)
    await page.getByRole('button', { name: 'Create setup link' }).click()
    await page.getByText('Setup link created.').waitFor()
    setupLink = await page.getByLabel('New setup link (shown once: copy it now)').inputValue()
    assert.match(setupLink, new RegExp(`^${stack.webUrl}/setup#token=[\\w-]{43}$`))
    await page.locator('#setup-links-body tr', { hasText: 'Active' }).waitFor()

    const itContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const itPage = await itContext.newPage()
      collectConsoleErrors(itPage, consoleErrors)
      await itPage.goto(setupLink)
      await itPage.locator('#setup-workspace', { hasText: workspaceName }).waitFor()
      assert.equal(new URL(itPage.url()).hash, '', 'the token leaves the address bar')
      await itPage.waitForFunction(() => (document.getElementById('sp-entity-id') as HTMLInputElement).value !== '')
      for (const adminOnly of [
        'Sign-in history',
        'Domains',
        'Signed sign-in requests',
        'Setup link for your IT admin',
      ]) {
        assert.equal(await itPage.getByRole('heading', { name: adminOnly }).isVisible(), false, adminOnly)
      }
      assert.equal(await itPage.getByRole('button', { name: 'Remove SSO' }).isVisible(), false)
      // A typed, unsaved identifier, then the IdP's metadata saved: the form shows what was saved.
      await itPage.getByLabel('Microsoft Entra Identifier').fill('https://typed.example/not-saved')
      const metadata = await (await itPage.request.get(`${stack.devIdpUrl}/federationmetadata.xml`)).text()
      const metadataFile = join(stack.dataDir, 'federation-metadata.xml')
      writeFileSync(metadataFile, metadata)
      await itPage.getByLabel('Federation Metadata XML file').setInputFiles(metadataFile)
      await itPage.getByRole('button', { name: 'Save from metadata', exact: true }).click()
      await itPage.getByText('Saved. SSO is active').waitFor()
      const entityId = /entityID="([^"]+)"/.exec(metadata)?.[1]
      assert.equal(await itPage.getByLabel('Microsoft Entra Identifier').inputValue(), entityId)

      await itPage.getByRole('button', { name: 'Test sign-in' }).click()
      await itPage.waitForURL(`${stack.devIdpUrl}/**`)
      await itPage.locator('#email').fill(`it-${suffix}@example.test`)
      await itPage.locator('#sign-in').click()
      await itPage.waitForURL(`${stack.webUrl}/setup`)
      await itPage.locator('#sso-test-outcome', { hasText: 'Connection works' }).waitFor()
      await itPage.getByText('sso_not_allowed/not_a_member').waitFor()
      assert.equal(
        (await itContext.cookies()).find((cookie) => cookie.name === 'session'),
        undefined,
      )
      await assertLabelled(itPage)
      await assertAccessible(itPage)
      await screenshot(itPage, 'setup-link', { commit: true })

      // Nothing else: the workspace's own pages and APIs refuse the link's holder.
      const token = new URLSearchParams(new URL(setupLink).hash.slice(1)).get('token') ?? ''
      const workspaceId = workspaceUrl.split('/').at(-1)
      for (const path of [`/v1/workspaces/${workspaceId}`, `/v1/workspaces/${workspaceId}/audit`, '/v1/auth/session']) {
        const refused = await itPage.request.get(`${stack.webUrl}${path}`, { headers: { 'x-setup-token': token } })
        assert.equal(refused.status(), 401, path)
      }

      // The owner who made the link is told what was done through it.
      await stack.mailContaining(admin.email, 'The holder of the setup link you created opened the SSO setup of')
      await stack.mailContaining(admin.email, 'The holder of the setup link you created ran a test sign-in')

      // The owner revokes it: the page says so and offers nothing.
      await page.getByRole('button', { name: 'Revoke this setup link' }).first().click()
      await page.getByText('The setup link was revoked').waitFor()
      await itPage.reload()
      await itPage.getByText('This setup link has expired or was revoked').waitFor()
    } finally {
      await itContext.close()
    }
  })

  // Entra's certificates last three years: here the IdP is given one that ends in 10 days.
  let expiring: SigningKeys
  it('a certificate near its end: the SSO and workspace pages say when, and to add the new one beside it', async () => {
    const page = adminPage
    expiring = await generateSigningKeys({ notAfter: new Date(Date.now() + 10 * dayMs) })
    await stack.useDevIdpSigningKeys(expiring)
    // Saved as at setup: downloaded from the IdP's page, and saved in place of the current one.
    const idpPage = await adminContext.newPage()
    await idpPage.goto(stack.devIdpUrl)
    const download = idpPage.waitForEvent('download')
    await idpPage.locator('#certificate-download').click()
    const certificateFile = join(stack.dataDir, 'expiring-certificate.cer')
    await (await download).saveAs(certificateFile)
    await idpPage.close()
    await page.bringToFront()
    await page.goto(`${workspaceUrl}/sso`)
    await page.locator('#sso-status', { hasText: 'Active' }).waitFor()
    await page.getByLabel('Certificate file (.cer)').setInputFiles(certificateFile)
    await page.waitForFunction(() =>
      (document.getElementById('idp-certificate') as HTMLTextAreaElement).value.includes('BEGIN CERTIFICATE'),
    )
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByText('Saved. SSO is active').waitFor()

    const { fingerprint, expiresOn } = describeCertificate(expiring)
    const expectedNote =
      `The signing certificate ${fingerprint.slice(0, 11)}… expires on ${expiresOn}, in 10 days: after that, ` +
      'sign-ins it signs are refused. Before then, add Microsoft Entra’s new certificate beside it with ' +
      '“Add certificate” below (sign-ins signed with either are accepted), switch the identity provider to ' +
      'the new one, then remove this one.'
    // Said once after the save (whose answer warns of it too), and again on a fresh load.
    for (const when of ['after saving', 'on a fresh load']) {
      if (when === 'on a fresh load') await page.reload()
      await page.locator('#sso-warnings li', { hasText: fingerprint.slice(0, 11) }).waitFor()
      assert.deepEqual(await page.locator('#sso-warnings li').allTextContents(), [expectedNote], when)
    }
    await assertLabelled(page)
    await assertAccessible(page)
    await page.locator('#sso-warnings').scrollIntoViewIfNeeded()
    await screenshot(page, 'sso-certificate-expiring', { commit: true })

    await page.goto(workspaceUrl)
    const attention = page.locator('#sso-attention')
    await attention.waitFor()
    assert.equal(
      await attention.textContent(),
      `The signing certificate ${fingerprint.slice(0, 11)}… expires on ${expiresOn}, in 10 days: after that, ` +
        'sign-ins it signs are refused. Before then, add the identity provider’s new certificate beside it in ' +
        'the SSO settings (sign-ins signed with either are accepted), switch the identity provider to the new ' +
        'one, then remove this one.',
    )
    await assertAccessible(page)
    await screenshot(page, 'workspace-certificate-expiring', { commit: true })

    // On a phone, both pages keep the note within the screen.
    await page.setViewportSize({ width: 390, height: 900 })
    try {
      for (const path of [workspaceUrl, `${workspaceUrl}/sso`]) {
        await page.goto(path)
        await page.locator('#sso-attention:visible, #sso-warnings li').first().waitFor()
        const width = await pageWidth(page)
        assert.ok(width <= 390, `${path} with the expiry note is ${width} px wide at 390`)
        await assertAccessible(page)
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 })
    }
  })

  it('the admin adds the new certificate beside it, the IdP signs with the new one, and the old one is removed', async () => {
    const page = adminPage
    const renewed = await generateSigningKeys()
    const old = describeCertificate(expiring)
    const fresh = describeCertificate(renewed)
    await page.goto(`${workspaceUrl}/sso`)
    await page.getByLabel('New certificate (Base64 or PEM)').fill(renewed.certificatePem)
    await page.getByRole('button', { name: 'Add certificate' }).click()
    await page.getByText('Certificate added: sign-ins signed with it or with the previous one are accepted.').waitFor()
    const rows = page.locator('#idp-certificates-body tr')
    const row = (certificate: { fingerprint: string }) => rows.filter({ hasText: certificate.fingerprint })
    for (const certificate of [old, fresh]) {
      assert.deepEqual(
        (await row(certificate).locator('td').allTextContents()).slice(1, 3),
        [certificate.validFrom, certificate.expiresOn],
        `the dates of ${certificate.fingerprint}`,
      )
    }
    assert.equal(await rows.count(), 2)
    // The note now says the rollover's next step.
    await page
      .locator('#sso-warnings li', {
        hasText: `${old.fingerprint.slice(0, 11)}… expires on ${old.expiresOn}, in 10 days; a newer certificate is beside it. Once the latest sign-in was signed by the new one, remove this one below.`,
      })
      .waitFor()

    // In Entra, the new certificate is made active; bob's next sign-in is signed with it.
    await stack.useDevIdpSigningKeys(renewed)
    await bobContext.clearCookies()
    await bobPage.goto(`${stack.webUrl}/login`)
    await bobPage.getByRole('button', { name: 'Sign in with SSO' }).click()
    await bobPage.getByLabel('Work email').fill(bob.email)
    await bobPage.getByRole('button', { name: 'Continue with SSO' }).click()
    await bobPage.waitForURL(`${stack.devIdpUrl}/**`)
    await bobPage.locator('#sign-in').click()
    await bobPage.waitForURL(workspaceUrl)

    // Both certificates with their dates, and which one signed the latest sign-in (once the
    // history has it: the page reads it when it loads).
    await eventually('the new certificate signing the latest sign-in', async () => {
      await page.goto(`${workspaceUrl}/sso`)
      return await row(fresh)
        .filter({ hasText: 'Signed the latest sign-in' })
        .waitFor({ timeout: 3_000 })
        .then(
          () => true,
          () => undefined,
        )
    })
    assert.equal(await row(old).locator('td').nth(3).textContent(), '—')
    await assertLabelled(page)
    await assertAccessible(page)
    await page.locator('#certificates-title').scrollIntoViewIfNeeded()
    await screenshot(page, 'sso-certificates-overlap', { commit: true })

    await page.getByRole('button', { name: `Remove the certificate ${old.fingerprint}` }).click()
    await page.getByText('Certificate removed: sign-ins signed with it are refused from now on.').waitFor()
    assert.equal(await rows.count(), 1)
    assert.equal(await row(fresh).count(), 1)
    assert.deepEqual(await page.locator('#sso-warnings li').allTextContents(), [])
    await page.goto(workspaceUrl)
    await page.locator('#sso-summary', { hasText: 'SSO is active.' }).waitFor()
    assert.equal(await page.locator('#sso-attention').isVisible(), false)

    // The trail has both changes, each certificate by its fingerprint.
    await page.goto(`${workspaceUrl}/audit`)
    const body = page.locator('#audit-body')
    await body.locator('tr', { hasText: 'sso.certificate_added' }).filter({ hasText: fresh.fingerprint }).waitFor()
    await body.locator('tr', { hasText: 'sso.certificate_removed' }).filter({ hasText: old.fingerprint }).waitFor()
  })

  it('keeps every page within 390 px, and logs no console error for signed-out or no-SSO-yet', async () => {
    const page = adminPage
    await page.setViewportSize({ width: 390, height: 900 })
    try {
      for (const path of [
        '/',
        workspaceUrl.slice(stack.webUrl.length),
        `${workspaceUrl.slice(stack.webUrl.length)}/sso`,
        `${workspaceUrl.slice(stack.webUrl.length)}/audit`,
        '/setup',
        '/no-such-page',
      ]) {
        await page.goto(`${stack.webUrl}${path}`)
        await page.waitForLoadState('networkidle')
        const width = await pageWidth(page)
        assert.ok(width <= 390, `${path} is ${width} px wide at 390`)
        if (path.endsWith('/sso')) {
          const linkField = await page.locator('#sp-login-url').boundingBox()
          assert.ok((linkField?.width ?? 0) >= 200, `the members' sign-in link field is ${linkField?.width} px wide`)
          await screenshot(page, 'sso-settings-390', { commit: true })
        }
      }
      const signedOut = await browser.newContext({ viewport: { width: 390, height: 900 } })
      try {
        const outPage = await signedOut.newPage()
        collectConsoleErrors(outPage, consoleErrors)
        for (const path of [
          '/login',
          '/signup',
          '/invite#token=none',
          `/sso/saml/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/login`,
        ]) {
          await outPage.goto(`${stack.webUrl}${path}`)
          await outPage.waitForLoadState('networkidle')
          const width = await pageWidth(outPage)
          assert.ok(width <= 390, `${path} (signed out) is ${width} px wide at 390`)
        }
      } finally {
        await signedOut.close()
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 })
    }
    const noise = consoleErrors.filter((error) =>
      /\/v1\/auth\/session|\/sso(\?|$| )|\/v1\/setup\/sso(\?|$| )/.test(error),
    )
    assert.deepEqual(noise, [], 'signed-out and no-SSO-yet pages log no console error')
  })

  it('signs in with the keyboard alone, with the focus visible at every step', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${stack.webUrl}/login`)
      await tabTo(page, 'login-email')
      assert.ok(await focusIsVisible(page), 'focus on the email field is visible')
      await page.keyboard.type(admin.email)
      await page.keyboard.press('Tab')
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'login-password')
      assert.ok(await focusIsVisible(page), 'focus on the password field is visible')
      await page.keyboard.type(password)
      await page.keyboard.press('Enter')
      await page.waitForURL(`${stack.webUrl}/`)
      await page.getByRole('link', { name: workspaceName }).waitFor()

      // The SSO button opens its form from the keyboard and puts the focus in it.
      await page.goto(`${stack.webUrl}/login`)
      await tabTo(page, 'sso-start')
      assert.ok(await focusIsVisible(page), 'focus on the SSO button is visible')
      await page.keyboard.press('Enter')
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'sso-email')
      assert.equal(await page.locator('#sso-start').getAttribute('aria-expanded'), 'true')
    } finally {
      await context.close()
    }
  })

  it('the admin switches to Entra’s App Federation Metadata Url, which the SSO page shows as read and refreshes on demand', async () => {
    const page = adminPage
    const idpPage = await adminContext.newPage()
    await idpPage.goto(stack.devIdpUrl)
    const metadataUrl = await idpPage.locator('#metadata-url').inputValue()
    await idpPage.close()
    await page.bringToFront()
    await page.goto(`${workspaceUrl}/sso`)
    await page.getByLabel('App Federation Metadata Url').fill(metadataUrl)
    await page.getByRole('button', { name: 'Save from metadata URL' }).click()
    await page.getByText('Saved. SSO is active').waitFor()
    await page.getByText(`${metadataUrl} (last read`).waitFor()
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await page.getByText('Metadata read: nothing changed.').waitFor()
    await assertLabelled(page)
    await screenshot(page, 'sso-settings-metadata-url', { commit: true })
    // Entra's next certificate, made active there: the refresh adds it beside the current one.
    const next = await generateSigningKeys()
    await stack.useDevIdpSigningKeys(next)
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await page.getByText('Metadata read: its new certificate was added beside the current one.').waitFor()
    await page.locator('#idp-certificates-body tr', { hasText: describeCertificate(next).fingerprint }).waitFor()
    assert.equal(await page.locator('#idp-certificates-body tr').count(), 2)
    // A URL that reaches a private address is refused next to its field, and nothing is saved.
    await page.getByLabel('App Federation Metadata Url').fill('https://169.254.169.254/latest/meta-data/')
    await page.getByRole('button', { name: 'Save from metadata URL' }).click()
    await page.locator('#idp-metadata-url-error', { hasText: 'not a public internet address' }).waitFor()
    assert.equal(await page.locator('#idp-metadata-url').getAttribute('aria-invalid'), 'true')

    // Remove SSO asks first, and says the IdP's application must be re-pointed after a new setup.
    await page.getByRole('button', { name: 'Remove SSO' }).click()
    const dialog = page.getByRole('dialog', { name: 'Remove SSO?' })
    await dialog.waitFor()
    assert.match(
      (await dialog.textContent()) ?? '',
      /the application in your identity provider must then be re-pointed/,
    )
    await assertAccessible(page)
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    assert.equal(await page.locator('#sso-status').textContent(), 'Active')
  })
})
