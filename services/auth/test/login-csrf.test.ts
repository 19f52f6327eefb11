import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type AuthTestApp,
  answerFromIdpPage,
  postToAcs,
  publicUrl,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  startSpLogin,
  workspaceWithSso,
} from './harness.ts'

describe('login CSRF through the ACS', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const confirm = (action: string, confirmation: string, headers: Record<string, string>) =>
    auth.app.inject({
      method: 'POST',
      url: action,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams({ confirmation }).toString(),
    })

  it("never switches a signed-in browser to the attacker's account: an unsolicited response ends on a confirmation page", async () => {
    // The attacker owns a workspace whose IdP (theirs) may start sign-ins.
    const attacker = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const victim = await signUp(auth.app)
    const forged = attacker.idp.responseBase64({ sp: attacker.connection.sp, user: { email: attacker.owner.email } })

    // A cross-site page auto-submits it in the victim's browser.
    const page = await postToAcs(auth.app, attacker.connection.id, { SAMLResponse: forged }, victim.cookie)
    assert.equal(page.statusCode, 200)
    assert.equal(sessionCookieOf(page), undefined, 'no session is set by the ACS itself')
    // What the gateway's confirmation page shows: who, into which workspace, and where to confirm.
    const { confirmationRequired, email, workspaceName, action, confirmation } = page.json()
    assert.equal(confirmationRequired, true)
    assert.equal(email, attacker.owner.email)
    assert.equal(workspaceName, attacker.workspace.name)
    const session = await auth.app.inject({ url: '/v1/auth/session', headers: { cookie: victim.cookie } })
    assert.equal(session.json().user.id, victim.user.id)

    // The attacker's site cannot press the button for them: its POST carries its own Origin.
    const crossSite = await confirm(action, confirmation, {
      origin: 'https://evil.example',
      cookie: victim.cookie,
      accept: 'application/json',
    })
    assert.equal(crossSite.statusCode, 403)
    assert.equal(crossSite.json().error, 'forbidden_origin')

    // The person's own click on our page signs them in as who the page named; once only.
    const clicked = await confirm(action, confirmation, { origin: publicUrl, cookie: victim.cookie })
    assert.equal(clicked.statusCode, 302, clicked.body)
    const switched = await auth.app.inject({
      url: '/v1/auth/session',
      headers: { cookie: sessionCookieOf(clicked) ?? '' },
    })
    assert.equal(switched.json().user.id, attacker.owner.user.id)
    const again = await confirm(action, confirmation, { origin: publicUrl, accept: 'application/json' })
    assert.equal(again.statusCode, 400)
    assert.equal(again.json().reason, 'confirmation_expired')
  })

  it('keeps SP-initiated sign-in, which this browser started, one step', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const { acs } = await signInSpInitiated(auth.app, connection, idp, { email: owner.email })
    assert.equal(acs.statusCode, 302)
    assert.ok(sessionCookieOf(acs))
  })

  // Another site navigates the victim's browser to the attacker's start; the attacker's IdP answers
  // at once, with a response that matches the AuthnRequest.
  it('sends the answer to a start another site made through the same confirmation page', async () => {
    const attacker = await workspaceWithSso(auth.app)
    const victim = await signUp(auth.app)
    for (const startedFrom of ['cross-site', 'same-site'] as const) {
      const started = await startSpLogin(auth.app, attacker.connection, '/elsewhere', startedFrom)
      const page = await answerFromIdpPage(auth.app, attacker, attacker.owner.email, started)
      assert.equal(page.statusCode, 200, `${startedFrom}: ${page.body}`)
      assert.equal(sessionCookieOf(page), undefined, `${startedFrom}: no session is set by the ACS itself`)
      assert.ok(!page.cookies.some((cookie) => cookie.name === 'saml_signed_in' && cookie.value !== ''))
      const { confirmationRequired, email, workspaceName, action, confirmation } = page.json()
      assert.equal(confirmationRequired, true)
      assert.equal(email, attacker.owner.email)
      assert.equal(workspaceName, attacker.workspace.name)

      const crossSite = await confirm(action, confirmation, {
        origin: 'https://evil.example',
        cookie: victim.cookie,
        accept: 'application/json',
      })
      assert.equal(crossSite.statusCode, 403)
      const session = await auth.app.inject({ url: '/v1/auth/session', headers: { cookie: victim.cookie } })
      assert.equal(session.json().user.id, victim.user.id, 'the browser is still the victim until they confirm')

      // Confirmed on our page, it lands where the page said: the workspace whose IdP vouched.
      const clicked = await confirm(action, confirmation, { origin: publicUrl, cookie: victim.cookie })
      assert.equal(clicked.statusCode, 302, clicked.body)
      assert.equal(clicked.headers.location, `/workspaces/${attacker.workspace.id}`)
      const switched = await auth.app.inject({
        url: '/v1/auth/session',
        headers: { cookie: sessionCookieOf(clicked) ?? '' },
      })
      assert.equal(switched.json().user.id, attacker.owner.user.id)
    }
  })

  it("keeps one step for starts from Gatehouse's own pages and typed or bookmarked ones", async () => {
    const acme = await workspaceWithSso(auth.app)
    for (const startedFrom of ['same-origin', 'none'] as const) {
      const started = await startSpLogin(auth.app, acme.connection, '/done', startedFrom)
      const acs = await answerFromIdpPage(auth.app, acme, acme.owner.email, started)
      // Straight to the finish step (sso-cross-site.test.ts), no confirmation page.
      assert.equal(acs.statusCode, 303, `${startedFrom}: ${acs.body}`)
      const finish = await auth.app.inject({
        url: String(acs.headers.location),
        headers: { cookie: acs.cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') },
      })
      assert.equal(finish.statusCode, 302, finish.body)
      assert.equal(finish.headers.location, '/done')
      assert.ok(sessionCookieOf(finish), startedFrom)
    }
  })

  it('refuses a confirmation for another connection, and one made before the connection changed', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const other = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const unsolicited = () => idp.responseBase64({ sp: connection.sp, user: { email: owner.email } })
    const first = (await postToAcs(auth.app, connection.id, { SAMLResponse: unsolicited() })).json()
    const elsewhere = await confirm(`/sso/saml/${other.connection.id}/confirm`, first.confirmation, {
      origin: publicUrl,
      accept: 'application/json',
    })
    assert.equal(elsewhere.json().reason, 'confirmation_expired')

    const second = (await postToAcs(auth.app, connection.id, { SAMLResponse: unsolicited() })).json()
    await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers: { cookie: owner.cookie },
      payload: { ssoUrl: idp.loginUrl, entityId: `${idp.entityId}/moved`, certificate: idp.certificatePem },
    })
    const stale = await confirm(second.action, second.confirmation, { origin: publicUrl, accept: 'application/json' })
    assert.equal(stale.statusCode, 400)
    assert.equal(stale.json().reason, 'connection_changed')
    assert.equal(sessionCookieOf(stale), undefined)
  })
})
