import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueIp } from '@gatehouse/testing'
import type { LightMyRequestResponse } from 'fastify'
import {
  type AuthTestApp,
  answerFromIdpPage,
  createWorkspace,
  invitationAccepted,
  postToAcs,
  sessionCookieOf,
  signUp,
  startAuthApp,
  startSpLogin,
  workspaceWithSso,
} from './harness.ts'

/** The session tokens a `session=` cookie names. */
const tokensIn = (cookie: string) => cookie.slice('session='.length).split('.')
const cookiesSetBy = (response: LightMyRequestResponse) =>
  response.cookies.filter((cookie) => cookie.value !== '').map((cookie) => `${cookie.name}=${cookie.value}`)

// In production the IdP (login.microsoftonline.com) is another site: its page's POST to the ACS
// carries no SameSite=Lax cookie, so the ACS cannot see the browser's `session` cookie.
describe('SSO through an IdP on another site', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  async function personInvitedToAcme() {
    const acme = await workspaceWithSso(auth.app)
    const person = await signUp(auth.app)
    const beta = await createWorkspace(auth.app, person.cookie, 'Beta')
    const granted = await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(acme.workspace.id, { userId: person.user.id, email: person.email }),
    )
    assert.equal(granted, 'granted')
    return { acme, person, beta }
  }

  it("keeps the browser's password sign-in when the IdP's cross-site post signs it in to a workspace", async () => {
    const { acme, person, beta } = await personInvitedToAcme()
    const started = await startSpLogin(auth.app, acme.connection, '/done')
    const acs = await answerFromIdpPage(auth.app, acme, person.email, started)
    assert.equal(sessionCookieOf(acs), undefined, 'no session cookie is set where the browser showed none')
    assert.equal(acs.statusCode, 303, acs.body)
    const location = String(acs.headers.location)
    assert.equal(location, `/sso/saml/${acme.connection.id}/finish`)

    // The redirect is a same-site GET: the browser's session cookie rides along.
    const finish = await auth.app.inject({
      method: 'GET',
      url: location,
      headers: { cookie: [person.cookie, ...cookiesSetBy(acs)].join('; ') },
      remoteAddress: uniqueIp(),
    })
    assert.equal(finish.statusCode, 302, finish.body)
    assert.equal(finish.headers.location, '/done')
    const cookie = sessionCookieOf(finish) as string
    assert.equal(tokensIn(cookie).length, 2, 'the SSO sign-in joins the password one')
    assert.ok(tokensIn(cookie).includes(tokensIn(person.cookie)[0] as string))
    const get = (url: string) => auth.app.inject({ method: 'GET', url, headers: { cookie } })
    assert.equal((await get(`/v1/workspaces/${beta.id}`)).statusCode, 200, 'the password sign-in still reaches Beta')
    assert.equal((await get(`/v1/workspaces/${acme.workspace.id}`)).statusCode, 200)

    // The carried sign-in is used once; without it the finish step refuses.
    const again = await auth.app.inject({ method: 'GET', url: location, headers: { cookie: person.cookie } })
    assert.equal(again.statusCode, 400)
    assert.equal(again.json().reason, 'sign_in_expired')
    const forged = await auth.app.inject({
      method: 'GET',
      url: location,
      headers: { cookie: `saml_signed_in=${Buffer.from('["x","y","z","/"]').toString('base64url')}` },
    })
    assert.equal(forged.json().reason, 'sign_in_expired', 'an unsigned carried sign-in is refused')
  })

  it('refuses a kept copy of the carried sign-in once its minute is over, whatever its Max-Age said', async (t) => {
    const { acme, person } = await personInvitedToAcme()
    const started = await startSpLogin(auth.app, acme.connection, '/done')
    const acs = await answerFromIdpPage(auth.app, acme, person.email, started)
    assert.equal(acs.statusCode, 303, acs.body)
    const kept = cookiesSetBy(acs).join('; ')
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 61_000 })
    const late = await auth.app.inject({ method: 'GET', url: String(acs.headers.location), headers: { cookie: kept } })
    t.mock.timers.reset()
    assert.equal(late.statusCode, 400, late.body)
    assert.equal(late.json().reason, 'sign_in_expired')
  })

  it('still signs in at once on a same-site post, where the browser showed its cookie', async () => {
    const { acme, person } = await personInvitedToAcme()
    const started = await startSpLogin(auth.app, acme.connection, '/')
    const samlResponse = acme.idp.responseBase64({
      sp: acme.connection.sp,
      user: { email: person.email },
      inResponseTo: started.requestId,
    })
    const acs = await postToAcs(
      auth.app,
      acme.connection.id,
      { SAMLResponse: samlResponse, RelayState: started.relayState },
      `${started.bindingCookie}; ${person.cookie}`,
    )
    assert.equal(acs.statusCode, 302, acs.body)
    assert.equal(tokensIn(sessionCookieOf(acs) as string).length, 2)
  })
})
