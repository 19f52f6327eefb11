// Issue 11, acceptance 3, in a real browser: another site auto-submits an unsolicited SAML response
// for the attacker's own account to the attacker's connection (which allows IdP-initiated
// sign-in). The visitor stays who they were; they see whom the response would sign in and where,
// and only their own keyboard or click on our page decides.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { escapeHtml } from '@gatehouse/server/html'
import { uniqueEmail } from '@gatehouse/testing'
import type { Browser, Page } from 'playwright-core'
import { confirmAddress } from '../support/account-proof.ts'
import { request } from '../support/http-client.ts'
import type { Stack } from '../support/stack.ts'
import { focusIsVisible, password, screenshot, startStackAndBrowser } from './browser.ts'

describe('login CSRF in a browser', { timeout: 180_000 }, () => {
  let stack: Stack
  let browser: Browser
  let attackerIdp: DevIdp
  let evilSite: Server
  let evilOrigin = ''
  let connection: { id: string; sp: { entityId: string; acsUrl: string } }
  let workspaceId = ''
  const attacker = { email: uniqueEmail('attacker') }
  const victim = { email: uniqueEmail('victim') }

  before(async () => {
    ;[stack, browser] = await startStackAndBrowser()
    attackerIdp = createDevIdp({ keys: await generateSigningKeys() })
    const api = (path: string) => `${stack.webUrl}${path}`
    // The attacker: an account, a workspace, and SSO pointed at a key of their own.
    const signedUp = await request(api('/v1/auth/signup'), { json: { email: attacker.email, password } })
    const cookie = signedUp.cookies.session as string
    // A proven address: whoever made the account owns it (an unproven one could not use SSO at all).
    await confirmAddress(stack.proof, { userId: signedUp.body.user.id, cookie })
    const workspace = await request(api('/v1/workspaces'), { cookie, json: { name: 'Attacker Co' } })
    workspaceId = workspace.body.workspace.id
    await request(api(`/v1/workspaces/${workspaceId}/sso`), { method: 'POST', cookie })
    const configured = await request(api(`/v1/workspaces/${workspaceId}/sso/idp`), {
      method: 'PUT',
      cookie,
      json: { ssoUrl: attackerIdp.loginUrl, entityId: attackerIdp.entityId, certificate: attackerIdp.certificatePem },
    })
    connection = configured.body.connection
    await request(api(`/v1/workspaces/${workspaceId}/sso`), {
      method: 'PATCH',
      cookie,
      json: { allowIdpInitiated: true },
    })
    await request(api('/v1/auth/signup'), { json: { email: victim.email, password } })

    // Another site (localhost is not the same site as 127.0.0.1) whose page posts a fresh response
    // signed for the attacker to the product's ACS as soon as it loads.
    evilSite = createServer((_incoming, response) => {
      const samlResponse = attackerIdp.responseBase64({ sp: connection.sp, user: { email: attacker.email } })
      response.setHeader('content-type', 'text/html; charset=utf-8')
      response.end(`<!doctype html><title>Free prizes</title>
<form method="post" action="${escapeHtml(connection.sp.acsUrl)}"><input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}"></form>
<script>document.forms[0].submit()</script>`)
    })
    await new Promise<void>((resolve) => evilSite.listen(0, '127.0.0.1', resolve))
    evilOrigin = `http://localhost:${(evilSite.address() as AddressInfo).port}`
  })
  after(async () => {
    evilSite?.close()
    await browser?.close()
    await stack?.stop()
  })

  const whoIsSignedIn = (page: Page) =>
    page.evaluate(async () => {
      const response = await fetch('/v1/auth/session')
      return response.status === 200 ? ((await response.json()).user.email as string) : null
    })

  async function signedInVictim() {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
    const page = await context.newPage()
    await page.goto(`${stack.webUrl}/login`)
    await page.getByLabel('Email', { exact: true }).fill(victim.email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${stack.webUrl}/`)
    assert.equal(await whoIsSignedIn(page), victim.email)
    return page
  }

  it('leaves the visitor signed in as themselves, and Cancel by keyboard keeps it so', async () => {
    const page = await signedInVictim()
    await page.goto(evilOrigin)
    await page.waitForURL(`${connection.sp.acsUrl}`)
    await page.getByRole('heading', { name: `Continue as ${attacker.email} into Attacker Co?` }).waitFor()
    assert.equal(await whoIsSignedIn(page), victim.email, 'the auto-submitted response changed nothing')
    await screenshot(page, 'sso-confirmation', { commit: true })

    // The confirming button has the focus, visibly; Tab reaches Cancel, and Enter follows it.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), `Continue as ${attacker.email}`)
    assert.ok(await focusIsVisible(page))
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel')
    assert.ok(await focusIsVisible(page))
    await page.keyboard.press('Enter')
    await page.waitForURL(`${stack.webUrl}/`)
    assert.equal(await whoIsSignedIn(page), victim.email)
    await page.context().close()
  })

  it('signs in as the named person only when they press Enter on Continue themselves', async () => {
    const page = await signedInVictim()
    await page.goto(evilOrigin)
    await page.getByRole('heading', { name: /^Continue as/ }).waitFor()
    await page.keyboard.press('Enter')
    // The sign-in lands in the workspace whose IdP vouched.
    await page.waitForURL(`${stack.webUrl}/workspaces/${workspaceId}`)
    assert.equal(await whoIsSignedIn(page), attacker.email)
    await page.context().close()
  })
})
