import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueIp } from '@gatehouse/testing'
import { eq } from 'drizzle-orm'
import { sessions } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  type ConnectionView,
  invitationAccepted,
  postToAcs,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

describe('test sign-in from the SSO page', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  /** The admin's browser: starts a test, passes the IdP as `email`, posts its response to the ACS. */
  async function runTest(
    setup: Awaited<ReturnType<typeof workspaceWithSso>>,
    cookie: string,
    email: string,
    connection: ConnectionView = setup.connection,
  ) {
    const started = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${setup.workspace.id}/sso/test`,
      headers: { cookie },
      remoteAddress: uniqueIp(),
    })
    assert.equal(started.statusCode, 200, started.body)
    const location = new URL(started.json().redirectUrl)
    const request = setup.idp.parseAuthnRequest({
      SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
      RelayState: location.searchParams.get('RelayState') ?? undefined,
    })
    const relayState = location.searchParams.get('RelayState') ?? ''
    const binding = started.cookies.find((candidate) => candidate.name === `saml_pending_${relayState}`)
    assert.ok(binding, 'the start binds the test to this browser')
    const samlResponse = setup.idp.responseBase64({
      sp: connection.sp,
      user: { email, firstName: 'Ada', lastName: 'Lovelace' },
      inResponseTo: request.id,
    })
    return postToAcs(
      auth.app,
      connection.id,
      { SAMLResponse: samlResponse, RelayState: relayState },
      `${binding.name}=${binding.value}; ${cookie}`,
    )
  }

  const latest = async (workspaceId: string, cookie: string) => {
    const response = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspaceId}/sso/test`,
      headers: { cookie },
    })
    assert.equal(response.statusCode, 200, response.body)
    return response.json().testSignIn
  }

  it('shows the claims received, opens no session and leaves the cookie alone', async () => {
    const setup = await workspaceWithSso(auth.app)
    const { owner, workspace } = setup
    const before = await auth.db.select().from(sessions).where(eq(sessions.userId, owner.user.id))
    const acs = await runTest(setup, owner.cookie, owner.email)
    assert.equal(acs.statusCode, 302, acs.body)
    assert.equal(acs.headers.location, `/workspaces/${workspace.id}/sso`)
    assert.equal(
      acs.cookies.find((cookie) => cookie.name === 'session'),
      undefined,
      'the session cookie is not touched',
    )
    const after = await auth.db.select().from(sessions).where(eq(sessions.userId, owner.user.id))
    assert.equal(after.length, before.length, 'no session row was created')

    const result = await latest(workspace.id, owner.cookie)
    assert.equal(result.outcome, 'succeeded')
    assert.equal(result.memberCanSignIn, true)
    assert.equal(result.claims.nameId, owner.email)
    assert.equal(result.claims.firstName, 'Ada')
    assert.equal(result.claims.issuer, setup.idp.entityId)
    assert.ok(result.claims.attributes.some((attribute: { name: string }) => attribute.name.endsWith('/givenname')))
    assert.equal(result.refusal, null)
  })

  it('names the exact refusal and what to change, and who the IdP named but cannot sign in', async () => {
    const setup = await workspaceWithSso(auth.app)
    const { owner, workspace, idp } = setup
    // Someone the IdP knows who is not a member: the connection works, the person may not sign in.
    const stranger = await runTest(setup, owner.cookie, 'nobody@example.test')
    assert.equal(stranger.statusCode, 302)
    const notMember = await latest(workspace.id, owner.cookie)
    assert.equal(notMember.outcome, 'succeeded')
    assert.equal(notMember.memberCanSignIn, false)
    assert.equal(notMember.refusal.reference, 'sso_not_allowed/not_a_member')

    // A wrong Entra Identifier pasted: every response is refused as issuer_mismatch.
    const repointed = await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers: { cookie: owner.cookie },
      payload: { ssoUrl: idp.loginUrl, entityId: 'https://sts.windows.net/wrong/', certificate: idp.certificatePem },
    })
    assert.equal(repointed.statusCode, 200)
    const refused = await runTest(setup, owner.cookie, owner.email, repointed.json().connection)
    assert.equal(refused.statusCode, 302, refused.body)
    const result = await latest(workspace.id, owner.cookie)
    assert.equal(result.outcome, 'refused')
    assert.equal(result.claims, null)
    assert.equal(result.refusal.reference, 'saml_invalid/issuer_mismatch')
    assert.match(result.refusal.message, /Identifier/)
  })

  it('keeps the result for the admin who ran it, in that workspace only', async () => {
    const setup = await workspaceWithSso(auth.app)
    const { owner, workspace } = setup
    await runTest(setup, owner.cookie, owner.email)
    const otherAdmin = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: otherAdmin.user.id, email: otherAdmin.email }, 'admin'),
    )
    assert.equal(await latest(workspace.id, otherAdmin.cookie), null)
    const elsewhere = await workspaceWithSso(auth.app)
    assert.equal(await latest(elsewhere.workspace.id, elsewhere.owner.cookie), null)
    const refused = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/sso/test`,
      headers: { cookie: elsewhere.owner.cookie },
    })
    assert.equal(refused.statusCode, 403)
  })
})
