import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueIp } from '@gatehouse/testing'
import {
  type AuthTestApp,
  invitationAccepted,
  personInTwoWorkspaces,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

/** The session tokens a `session=` cookie names. */
const tokensIn = (cookie: string) => cookie.slice('session='.length).split('.')

describe('what a session reaches', () => {
  let auth: AuthTestApp
  const internalToken = 'session-scope-internal-token-0123456789abcdef'
  before(async () => {
    auth = await startAuthApp({ INTERNAL_TOKEN: internalToken })
  })
  after(() => auth.close())

  const get = (url: string, cookie: string) => auth.app.inject({ method: 'GET', url, headers: { cookie } })

  it('declares what every route needs, and nothing is left undeclared', () => {
    const declared = Object.fromEntries(
      auth.app.declaredRoutes.map((route) => [`${route.method} ${route.url}`, route.access]),
    )
    assert.deepEqual(declared, {
      'POST /v1/auth/signup': 'public',
      'POST /v1/auth/login': 'public',
      'POST /v1/auth/logout': 'public',
      'POST /v1/auth/sessions/end-by-link': 'public',
      'POST /v1/auth/reauthenticate': 'session',
      'GET /v1/auth/session': 'session',
      'POST /v1/auth/password/forgot': 'public',
      'POST /v1/auth/password/reset': 'public',
      'POST /v1/auth/email/confirm': 'public',
      'POST /v1/auth/email/reclaim': 'public',
      'POST /v1/auth/email/confirmation': 'password',
      'POST /v1/auth/password/change': 'password',
      'GET /v1/auth/sessions': 'password',
      'DELETE /v1/auth/sessions/:sessionId': 'password',
      'POST /v1/auth/sessions/end-others': 'password',
      'POST /v1/workspaces': 'password',
      'GET /v1/workspaces/:workspaceId': { workspace: 'member' },
      'GET /v1/workspaces/:workspaceId/members': { workspace: 'member' },
      'DELETE /v1/workspaces/:workspaceId/members/:userId': { workspace: 'admin' },
      'PATCH /v1/workspaces/:workspaceId/members/:userId': { workspace: 'owner' },
      'POST /v1/workspaces/:workspaceId/leave': { workspace: 'member' },
      'POST /v1/workspaces/:workspaceId/ownership': { workspace: 'owner' },
      'POST /v1/workspaces/:workspaceId/sso': { workspace: 'admin' },
      'GET /v1/workspaces/:workspaceId/sso': { workspace: 'admin' },
      'PUT /v1/workspaces/:workspaceId/sso/idp': { workspace: 'admin' },
      'POST /v1/workspaces/:workspaceId/sso/idp/metadata/refresh': { workspace: 'admin' },
      'PATCH /v1/workspaces/:workspaceId/sso': { workspace: 'admin' },
      'POST /v1/workspaces/:workspaceId/sso/signing-keys': { workspace: 'admin' },
      'DELETE /v1/workspaces/:workspaceId/sso/signing-keys/:keyId': { workspace: 'admin' },
      'POST /v1/workspaces/:workspaceId/sso/idp/certificates': { workspace: 'admin' },
      'DELETE /v1/workspaces/:workspaceId/sso/idp/certificates/:fingerprint': { workspace: 'admin' },
      'POST /v1/workspaces/:workspaceId/sso/recovery': 'password',
      'DELETE /v1/workspaces/:workspaceId/sso': { workspace: 'admin' },
      'GET /v1/workspaces/:workspaceId/sso/sign-ins': { workspace: 'admin' },
      'GET /v1/workspaces/:workspaceId/audit': { workspace: 'admin' },
      'POST /v1/workspaces/:workspaceId/sso/test': { workspace: 'admin' },
      'GET /v1/workspaces/:workspaceId/sso/test': { workspace: 'admin' },
      'POST /v1/workspaces/:workspaceId/setup-links': { workspace: 'owner' },
      'GET /v1/workspaces/:workspaceId/setup-links': { workspace: 'owner' },
      'DELETE /v1/workspaces/:workspaceId/setup-links/:linkId': { workspace: 'owner' },
      'GET /v1/setup': 'setup_link',
      'GET /v1/setup/sso': 'setup_link',
      'POST /v1/setup/sso': 'setup_link',
      'PUT /v1/setup/sso/idp': 'setup_link',
      'PATCH /v1/setup/sso': 'setup_link',
      'POST /v1/setup/sso/test': 'setup_link',
      'GET /v1/setup/sso/test': 'setup_link',
      'GET /v1/workspaces/:workspaceId/domains': { workspace: 'owner' },
      'POST /v1/workspaces/:workspaceId/domains': { workspace: 'owner' },
      'POST /v1/workspaces/:workspaceId/domains/:domain/verify': { workspace: 'owner' },
      'DELETE /v1/workspaces/:workspaceId/domains/:domain': { workspace: 'owner' },
      'POST /v1/auth/sso/discover': 'public',
      'GET /sso/saml/:connectionId/metadata': 'public',
      'GET /sso/saml/:connectionId/login': 'public',
      'POST /sso/saml/:connectionId/acs': 'public',
      'GET /sso/saml/:connectionId/finish': 'public',
      'POST /sso/saml/:connectionId/confirm': 'public',
      'POST /internal/introspect': 'internal',
      'POST /internal/memberships/remove': 'internal',
    })
  })

  it("compiles every route's request and response schemas (which the app compiles on first use)", () => {
    assert.deepEqual(auth.app.routeSchemaProblems(), [])
  })

  it("keeps a session made by Acme's IdP inside Acme: another workspace, new workspaces and the account answer reauthentication_required", async () => {
    const { acme, beta, ssoCookie } = await personInTwoWorkspaces(auth.app)

    // Inside Acme it acts as the person's role there allows.
    assert.equal((await get(`/v1/workspaces/${acme.workspace.id}`, ssoCookie)).statusCode, 200)
    assert.equal((await get(`/v1/workspaces/${acme.workspace.id}/members`, ssoCookie)).statusCode, 200)
    assert.equal((await get(`/v1/workspaces/${acme.workspace.id}/sso`, ssoCookie)).json().error, 'forbidden')

    for (const url of [
      `/v1/workspaces/${beta.id}`,
      `/v1/workspaces/${beta.id}/members`,
      `/v1/workspaces/${beta.id}/sso`,
    ]) {
      const refused = await get(url, ssoCookie)
      assert.equal(refused.statusCode, 403, url)
      assert.equal(refused.json().error, 'reauthentication_required', url)
      assert.deepEqual(refused.json().signIn, { password: '/login' }, url)
    }
    const repointed = await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${beta.id}/sso/idp`,
      headers: { cookie: ssoCookie },
      payload: { ssoUrl: acme.idp.loginUrl, entityId: acme.idp.entityId, certificate: acme.idp.certificatePem },
    })
    assert.equal(repointed.json().error, 'reauthentication_required')
    const created = await auth.app.inject({
      method: 'POST',
      url: '/v1/workspaces',
      headers: { cookie: ssoCookie },
      payload: { name: 'Mine now' },
    })
    assert.equal(created.statusCode, 403)
    assert.equal(created.json().error, 'reauthentication_required')
    // Nor may it change the account: its password, or its address's confirmation mail.
    for (const [url, payload] of [
      ['/v1/auth/password/change', { currentPassword: strongPassword, newPassword: 'an IdP may not choose this' }],
      ['/v1/auth/email/confirmation', undefined],
    ] as const) {
      const refused = await auth.app.inject({ method: 'POST', url, headers: { cookie: ssoCookie }, payload })
      assert.equal(refused.statusCode, 403, url)
      assert.equal(refused.json().error, 'reauthentication_required', url)
    }

    const session = await get('/v1/auth/session', ssoCookie)
    assert.equal(session.statusCode, 200)
    assert.equal(session.json().account, false)
    assert.deepEqual(session.json().authentications, [
      { method: 'saml', workspaceId: acme.workspace.id, connectionId: acme.connection.id },
    ])
    const reach = Object.fromEntries(
      session
        .json()
        .memberships.map((membership: { workspaceId: string; reachable: boolean }) => [
          membership.workspaceId,
          membership.reachable,
        ]),
    )
    assert.deepEqual(reach, { [acme.workspace.id]: true, [beta.id]: false })
  })

  it('tells where to sign in: the password, and the workspace’s own SSO when the member may use it', async () => {
    const { acme, person } = await personInTwoWorkspaces(auth.app)
    // A second workspace with SSO that the person joined: Acme's IdP session is sent to Gamma's SSO.
    const gamma = await workspaceWithSso(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(gamma.workspace.id, { userId: person.user.id, email: person.email }),
    )
    const { acs } = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
    const refused = await get(`/v1/workspaces/${gamma.workspace.id}`, sessionCookieOf(acs) as string)
    assert.equal(refused.json().error, 'reauthentication_required')
    assert.deepEqual(refused.json().signIn, {
      password: '/login',
      sso: `/sso/saml/${gamma.connection.id}/login`,
    })
  })

  it("holds a password sign-in and a workspace's SSO in one browser, each reaching what it may", async () => {
    const { acme, person, beta, ssoCookie } = await personInTwoWorkspaces(auth.app)
    // Signing in with the password in the browser that holds Acme's SSO adds the account.
    const login = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress: uniqueIp(),
      headers: { cookie: ssoCookie },
      payload: { email: person.email, password: strongPassword },
    })
    assert.equal(login.statusCode, 200)
    const both = sessionCookieOf(login) as string
    assert.equal(tokensIn(both).length, 2, 'the cookie names both sign-ins')
    const session = (await get('/v1/auth/session', both)).json()
    assert.equal(session.account, true)
    assert.deepEqual(
      session.authentications.map((authentication: { method: string }) => authentication.method),
      ['password', 'saml'],
    )
    assert.equal((await get(`/v1/workspaces/${beta.id}`, both)).statusCode, 200)
    assert.equal((await get(`/v1/workspaces/${acme.workspace.id}`, both)).statusCode, 200)

    // Then SSO into Acme again (SP-initiated, the browser's own): it replaces Acme's previous SSO.
    const again = await signInSpInitiatedWith(both)
    const cookie = sessionCookieOf(again) as string
    assert.equal(tokensIn(cookie).length, 2)
    assert.ok(tokensIn(cookie).includes(tokensIn(both)[0] as string), 'the password sign-in is kept')

    // Signing out ends every sign-in the browser held.
    const logout = await auth.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie } })
    assert.equal(logout.statusCode, 204)
    for (const token of tokensIn(cookie)) {
      assert.equal((await get('/v1/auth/session', `session=${token}`)).statusCode, 401)
    }

    async function signInSpInitiatedWith(cookie: string) {
      const { acs } = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email }, '/', cookie)
      assert.equal(acs.statusCode, 302, acs.body)
      return acs
    }
  })

  it("starts the browser afresh when someone else signs in, and ignores another person's token planted beside ours", async () => {
    const { acme, person } = await personInTwoWorkspaces(auth.app)
    const stranger = await signUp(auth.app)
    const { acs } = await signInSpInitiated(
      auth.app,
      acme.connection,
      acme.idp,
      { email: person.email },
      '/',
      stranger.cookie,
    )
    const cookie = sessionCookieOf(acs) as string
    assert.equal(tokensIn(cookie).length, 1, "the stranger's sign-in is not carried into the person's")

    const planted = `${cookie}.${tokensIn(stranger.cookie)[0]}`
    const session = (await get('/v1/auth/session', planted)).json()
    assert.equal(session.user.id, person.user.id)
    assert.equal(session.authentications.length, 1)
    assert.equal(session.account, false, "the stranger's password sign-in lends nothing")
  })

  it("shows the names Acme's IdP claims in Acme only: never on the account, never in another workspace", async () => {
    const { acme, person, beta } = await personInTwoWorkspaces(auth.app)
    const { acs } = await signInSpInitiated(auth.app, acme.connection, acme.idp, {
      email: person.email,
      firstName: 'Pwned by',
      lastName: 'Acme IT',
    })
    const namesIn = async (workspaceId: string, cookie: string) =>
      (await get(`/v1/workspaces/${workspaceId}/members`, cookie))
        .json()
        .members.filter((member: { userId: string }) => member.userId === person.user.id)
        .map((member: { firstName: string | null; lastName: string | null }) => [member.firstName, member.lastName])
    assert.deepEqual(await namesIn(acme.workspace.id, sessionCookieOf(acs) as string), [['Pwned by', 'Acme IT']])
    assert.deepEqual(await namesIn(beta.id, person.cookie), [[null, null]])
    const account = (await get('/v1/auth/session', person.cookie)).json().user
    assert.deepEqual([account.firstName, account.lastName], [null, null])
  })

  it('answers introspection with what the session reaches, for the invitation service', async () => {
    const { acme, beta, ssoCookie } = await personInTwoWorkspaces(auth.app)
    const introspect = (workspaceId: string) =>
      auth.app.inject({
        method: 'POST',
        url: '/internal/introspect',
        headers: { authorization: `Bearer ${internalToken}` },
        payload: { sessionToken: ssoCookie.slice('session='.length), workspaceId },
      })
    const inAcme = (await introspect(acme.workspace.id)).json()
    assert.equal(inAcme.account, null)
    assert.deepEqual(inAcme.workspace.reachedBy, {
      method: 'saml',
      workspaceId: acme.workspace.id,
      connectionId: acme.connection.id,
    })
    const inBeta = (await introspect(beta.id)).json()
    assert.equal(inBeta.workspace.role, 'owner')
    assert.equal(inBeta.workspace.reachedBy, null)
  })
})
