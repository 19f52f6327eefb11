// Issue 11, point 6, in a real browser: the link in the email of a first sign-in through an IdP
// opens a page that ends that one session, by keyboard alone; a second use says it did nothing.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { uniqueEmail } from '@gatehouse/testing'
import type { Browser } from 'playwright-core'
import { confirmAddress } from '../support/account-proof.ts'
import { request } from '../support/http-client.ts'
import type { Stack } from '../support/stack.ts'
import { focusIsVisible, password, screenshot, startStackAndBrowser } from './browser.ts'

describe('the end-session page', { timeout: 180_000 }, () => {
  let stack: Stack
  let browser: Browser
  let idp: DevIdp

  before(async () => {
    ;[stack, browser] = await startStackAndBrowser()
    idp = createDevIdp({ keys: await generateSigningKeys() })
  })
  after(async () => {
    await browser?.close()
    await stack?.stop()
  })

  const api = (path: string) => `${stack.webUrl}${path}`

  /** An owner whose workspace's SSO points at `idp`, and the cookie of their first SSO sign-in. */
  async function firstSsoSignIn(email: string) {
    const signedUp = await request(api('/v1/auth/signup'), { json: { email, password } })
    const cookie = signedUp.cookies.session as string
    // SSO signs in only accounts whose address is proven.
    await confirmAddress(stack.proof, { userId: signedUp.body.user.id, cookie })
    const workspace = await request(api('/v1/workspaces'), { cookie, json: { name: 'Acme' } })
    const workspaceId = workspace.body.workspace.id as string
    await request(api(`/v1/workspaces/${workspaceId}/sso`), { method: 'POST', cookie })
    const configured = await request(api(`/v1/workspaces/${workspaceId}/sso/idp`), {
      method: 'PUT',
      cookie,
      json: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    const connection = configured.body.connection as { id: string; sp: { entityId: string; acsUrl: string } }
    const started = await request(api(`/sso/saml/${connection.id}/login`))
    const location = new URL(String(started.headers.get('location')))
    const authnRequest = idp.parseAuthnRequest({
      SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
      RelayState: location.searchParams.get('RelayState') ?? undefined,
    })
    const signedIn = await request(connection.sp.acsUrl, {
      cookie: Object.values(started.cookies).join('; '),
      form: {
        SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email }, inResponseTo: authnRequest.id }),
        RelayState: location.searchParams.get('RelayState') ?? '',
      },
    })
    assert.equal(signedIn.status, 302, JSON.stringify(signedIn.body))
    return signedIn.cookies.session as string
  }

  it('ends the session the email names, by keyboard, and says so; the link then does nothing', async () => {
    const email = uniqueEmail('first-sso')
    const ssoCookie = await firstSsoSignIn(email)
    const sessionStatus = async () => (await request(api('/v1/auth/session'), { cookie: ssoCookie })).status
    assert.equal(await sessionStatus(), 200)
    const link = await stack.endSessionLink(email)
    assert.ok(link.startsWith(`${stack.webUrl}/end-session#token=`), link)

    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
    const page = await context.newPage()
    await page.goto(link)
    await page.getByRole('heading', { name: 'End a sign-in' }).waitFor()
    // The token leaves the address bar (and the history) as soon as the page has it.
    assert.equal(new URL(page.url()).hash, '')
    await screenshot(page, 'end-session', { commit: true })

    // The one action has the focus, visibly: Enter ends the session.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'End that session')
    assert.ok(await focusIsVisible(page))
    await page.keyboard.press('Enter')
    await page.getByRole('status').filter({ hasText: 'That session has ended.' }).waitFor()
    await page.getByText('If you did not sign in, tell the workspace’s owner').waitFor()
    assert.equal(await sessionStatus(), 401)
    await screenshot(page, 'end-session-done', { commit: true })

    // The same link again: nothing to end, and the page says so.
    await page.goto('about:blank')
    await page.goto(link)
    await page.getByRole('button', { name: 'End that session' }).click()
    await page.getByRole('alert').filter({ hasText: 'This link was already used' }).waitFor()
    await context.close()
  })
})
