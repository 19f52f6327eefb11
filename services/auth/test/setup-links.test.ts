import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { uniqueIp } from '@gatehouse/testing'
import { and, eq } from 'drizzle-orm'
import { auditLog, outbox, setupLinks } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  createWorkspace,
  invitationAccepted,
  postToAcs,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

describe("setup links for the customer's IT admin", () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  async function createLink(workspaceId: string, cookie: string) {
    const response = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspaceId}/setup-links`,
      headers: { cookie },
    })
    assert.equal(response.statusCode, 201, response.body)
    const { setupLink } = response.json()
    const url = new URL(setupLink.url)
    assert.equal(url.pathname, '/setup')
    assert.equal(url.search, '', 'the token is in the fragment only')
    const token = new URLSearchParams(url.hash.slice(1)).get('token') as string
    assert.match(token, /^[\w-]{43}$/)
    return { id: setupLink.id as string, token }
  }

  const withToken = (token: string, method: string, url: string, payload?: object) =>
    auth.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-setup-token': token },
      remoteAddress: '192.0.2.44',
      ...(payload ? { payload } : {}),
    })

  it("does the setup: turns SSO on, takes the IdP's values, shows the status; audited as the link and told to the owner", async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie, 'Setup Co')
    const { id, token } = await createLink(workspace.id, owner.cookie)
    const { idp } = await workspaceWithSso(auth.app) // only for its dev IdP values

    const opened = await withToken(token, 'GET', '/v1/setup')
    assert.equal(opened.statusCode, 200, opened.body)
    assert.deepEqual(opened.json().workspace, { id: workspace.id, name: 'Setup Co' })
    assert.equal((await withToken(token, 'GET', '/v1/setup')).statusCode, 200)
    assert.equal((await withToken(token, 'GET', '/v1/setup/sso')).json().error, 'sso_not_configured')
    const turnedOn = await withToken(token, 'POST', '/v1/setup/sso')
    assert.equal(turnedOn.statusCode, 201, turnedOn.body)
    const values = { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }
    const saved = await withToken(token, 'PUT', '/v1/setup/sso/idp', values)
    assert.equal(saved.statusCode, 200, saved.body)
    assert.equal(saved.json().connection.status, 'active')
    // It may not turn SSO off, require it, or change the other options.
    const toggled = await withToken(token, 'PATCH', '/v1/setup/sso', { enabled: false })
    assert.equal(toggled.statusCode, 400)

    const audit = await auth.db.select().from(auditLog).where(eq(auditLog.workspaceId, workspace.id))
    assert.deepEqual(audit.map((row) => row.action).sort(), [
      'setup_link.created',
      'setup_link.opened',
      'sso.created',
      'sso.idp_configured',
      'workspace.created',
    ])
    const throughLink = audit.filter((entry) => !['setup_link.created', 'workspace.created'].includes(entry.action))
    for (const row of throughLink) {
      assert.equal(row.actorMethod, 'setup_link')
      assert.equal(row.setupLinkId, id)
      assert.equal(row.actorUserId, owner.user.id)
      assert.equal(row.ip, '192.0.2.44')
    }
    const told = (await auth.db.select().from(outbox)).map((row) => row.event as unknown as Record<string, unknown>)
    const uses = told.filter((event) => event.type === 'sso.setup_link.used' && event.setupLinkId === id)
    assert.deepEqual(uses.map((event) => event.what).sort(), ['opened', 'sso_turned_on'], 'opened is told once')
    assert.deepEqual(uses[0]?.notify, [owner.email])
    const changed = told.find((event) => event.type === 'sso.connection.changed' && event.workspaceId === workspace.id)
    assert.deepEqual(changed?.actingSession, { method: 'setup_link' })
  })

  it('runs a test sign-in whose result is the link’s own, opening no session', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app)
    const { token } = await createLink(workspace.id, owner.cookie)
    const started = await withToken(token, 'POST', '/v1/setup/sso/test')
    assert.equal(started.statusCode, 200, started.body)
    const location = new URL(started.json().redirectUrl)
    const request = idp.parseAuthnRequest({
      SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
      RelayState: location.searchParams.get('RelayState') ?? undefined,
    })
    const relayState = location.searchParams.get('RelayState') ?? ''
    const binding = started.cookies.find((cookie) => cookie.name === `saml_pending_${relayState}`)
    const acs = await postToAcs(
      auth.app,
      connection.id,
      {
        SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: owner.email }, inResponseTo: request.id }),
        RelayState: relayState,
      },
      `${binding?.name}=${binding?.value}`,
    )
    assert.equal(acs.statusCode, 302)
    assert.equal(acs.headers.location, '/setup')
    assert.equal(
      acs.cookies.find((cookie) => cookie.name === 'session'),
      undefined,
    )
    const result = (await withToken(token, 'GET', '/v1/setup/sso/test')).json().testSignIn
    assert.equal(result.outcome, 'succeeded')
    assert.equal(result.claims.nameId, owner.email)
    const ownersOwn = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/sso/test`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(ownersOwn.json().testSignIn, null)
  })

  it('reaches nothing else: every other route refuses the setup token', async () => {
    const { owner, workspace, connection } = await workspaceWithSso(auth.app)
    const { token } = await createLink(workspace.id, owner.cookie)
    const others = auth.app.declaredRoutes.filter((route) => route.access !== 'public' && route.access !== 'setup_link')
    assert.ok(others.length >= 25, `${others.length} routes`)
    for (const route of others) {
      const url = route.url
        .replace(':workspaceId', workspace.id)
        .replace(':connectionId', connection.id)
        .replace(':fingerprint', 'AA'.repeat(32))
        .replace(':domain', 'example.com')
        .replace(/:[a-zA-Z]+/g, randomUUID())
      const response = await auth.app.inject({
        method: route.method as 'GET',
        url,
        headers: { 'x-setup-token': token, authorization: `Bearer ${token}` },
        remoteAddress: uniqueIp(),
        payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
      })
      assert.equal(response.statusCode, 401, `${route.method} ${route.url}: ${response.body}`)
    }
    // The public routes take no token at all; what they answer is theirs to anyone.
  })

  it('is the owner’s: admins cannot create, list or revoke links', async () => {
    const { workspace } = await workspaceWithSso(auth.app)
    const admin = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    for (const method of ['POST', 'GET'] as const) {
      const response = await auth.app.inject({
        method,
        url: `/v1/workspaces/${workspace.id}/setup-links`,
        headers: { cookie: admin.cookie },
      })
      assert.equal(response.statusCode, 403)
    }
  })

  it('stops working when revoked, and when it expires', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const revoked = await createLink(workspace.id, owner.cookie)
    const expiring = await createLink(workspace.id, owner.cookie)
    assert.equal((await withToken(revoked.token, 'GET', '/v1/setup/sso')).statusCode, 200)

    const revoke = await auth.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/setup-links/${revoked.id}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(revoke.statusCode, 204)
    const afterRevoke = await withToken(revoked.token, 'GET', '/v1/setup/sso')
    assert.equal(afterRevoke.statusCode, 401)
    assert.equal(afterRevoke.json().error, 'setup_link_invalid')

    // Seven days pass (the link's row says so; nothing else about it changes).
    await auth.db
      .update(setupLinks)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(and(eq(setupLinks.id, expiring.id)))
    assert.equal((await withToken(expiring.token, 'GET', '/v1/setup/sso')).json().error, 'setup_link_invalid')

    const listed = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/setup-links`,
      headers: { cookie: owner.cookie },
    })
    const statuses = Object.fromEntries(
      listed.json().setupLinks.map((link: { id: string; status: string }) => [link.id, link.status]),
    )
    assert.deepEqual(statuses, { [revoked.id]: 'revoked', [expiring.id]: 'expired' })
    assert.equal((await withToken('x'.repeat(43), 'GET', '/v1/setup')).statusCode, 401)
  })
})
