import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { subscribe } from '@gatehouse/events'
import { eventually, redisUrl, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import {
  type AuthTestApp,
  postAndConfirm,
  postToAcs,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  startSpLogin,
  workspaceWithSso,
} from './harness.ts'

describe('SAML sign-in through the ACS', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  it('signs an owner in, SP-initiated, end to end: metadata, login, ACS, session, names from the claims in that workspace only', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app)

    const metadata = await auth.app.inject({ method: 'GET', url: `/sso/saml/${connection.id}/metadata` })
    assert.equal(metadata.statusCode, 200)
    assert.match(metadata.body, /<(md:)?SPSSODescriptor/)
    assert.ok(metadata.body.includes(`entityID="${connection.sp.entityId}"`))
    assert.ok(metadata.body.includes(`Location="${connection.sp.acsUrl}"`))

    const { started, acs } = await signInSpInitiated(
      auth.app,
      connection,
      idp,
      { email: owner.email, firstName: 'Grace', lastName: 'Hopper' },
      '/workspaces/home?tab=members',
    )
    assert.equal(`${started.location.origin}${started.location.pathname}`, idp.loginUrl)
    assert.notEqual(started.relayState, '/workspaces/home?tab=members', 'RelayState is an opaque key')
    assert.ok(started.bindingCookie)
    assert.equal(acs.statusCode, 302, acs.body)
    assert.equal(acs.headers.location, '/workspaces/home?tab=members')
    const cookie = sessionCookieOf(acs)
    assert.ok(cookie)

    const session = await auth.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } })
    assert.equal(session.statusCode, 200)
    assert.equal(session.json().user.email, owner.email)
    // The IdP's names are the owner's names in this workspace; the account keeps its own.
    assert.equal(session.json().user.firstName, null)
    const members = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${connection.workspaceId}/members`,
      headers: { cookie },
    })
    assert.deepEqual(
      members
        .json()
        .members.map((member: { firstName: string; lastName: string }) => [member.firstName, member.lastName]),
      [['Grace', 'Hopper']],
    )
  })

  it('passes the email typed at Gatehouse to the IdP as login_hint, and drops one that is not an address', async () => {
    const { connection } = await workspaceWithSso(auth.app)
    const start = async (loginHint: string) => {
      const response = await auth.app.inject({
        method: 'GET',
        url: `/sso/saml/${connection.id}/login?loginHint=${encodeURIComponent(loginHint)}`,
      })
      assert.equal(response.statusCode, 302, response.body)
      return new URL(String(response.headers.location)).searchParams
    }
    assert.equal((await start(' Ada@Example.COM ')).get('login_hint'), 'ada@example.com')
    for (const hostile of ['not an email', 'a@b.com&SAMLRequest=x', '<script>@x.com']) {
      const query = await start(hostile)
      assert.equal(query.get('login_hint'), null, hostile)
      assert.equal(query.getAll('SAMLRequest').length, 1)
    }
    const tooLong = await auth.app.inject({
      method: 'GET',
      url: `/sso/saml/${connection.id}/login?loginHint=${'a'.repeat(321)}`,
      headers: { accept: 'application/json' },
    })
    assert.equal(tooLong.statusCode, 400)
  })

  it('refuses an email with no account, and an account that is not a member, saying what to do', async () => {
    const { connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const outsider = await signUp(auth.app)
    for (const email of [uniqueEmail('nobody'), outsider.email]) {
      const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email } })
      const json = await postToAcs(auth.app, connection.id, { SAMLResponse: samlResponse })
      assert.equal(json.statusCode, 403)
      assert.equal(json.json().error, 'sso_not_allowed')
      assert.match(json.json().message, /accept your invitation and sign up with a password/i)
      assert.equal(sessionCookieOf(json), undefined)
    }
  })

  it('answers 409 saml_replayed to a replay, also on a second instance sharing Redis', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email: owner.email } })
    const first = await postToAcs(auth.app, connection.id, { SAMLResponse: samlResponse })
    assert.equal(first.statusCode, 200, first.body)

    const again = await postToAcs(auth.app, connection.id, { SAMLResponse: samlResponse })
    assert.equal(again.statusCode, 409)
    assert.equal(again.json().error, 'saml_replayed')

    const replica = await startAuthApp()
    try {
      const elsewhere = await postToAcs(replica.app, connection.id, { SAMLResponse: samlResponse })
      assert.equal(elsewhere.statusCode, 409)
      assert.equal(elsewhere.json().error, 'saml_replayed')
      assert.equal(sessionCookieOf(elsewhere), undefined)
    } finally {
      await replica.close()
    }
  })

  it('answers a start once: another genuine response to it, with a copy of its cookie, is refused', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app)
    const started = await startSpLogin(auth.app, connection)
    // Each answer is a fresh assertion (an ID of its own), which the replay cache alone lets through.
    const answer = () =>
      postToAcs(
        auth.app,
        connection.id,
        {
          SAMLResponse: idp.responseBase64({
            sp: connection.sp,
            user: { email: owner.email },
            inResponseTo: started.requestId,
          }),
          RelayState: started.relayState,
        },
        started.bindingCookie,
      )
    const first = await answer()
    assert.equal(first.statusCode, 302, first.body)
    const second = await answer()
    assert.equal(second.statusCode, 409, second.body)
    assert.equal(second.json().error, 'saml_replayed')
    assert.equal(sessionCookieOf(second), undefined)
  })

  it('takes IdP-initiated sign-in only while the connection allows it', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app)
    const unsolicited = () => idp.responseBase64({ sp: connection.sp, user: { email: owner.email } })

    const refused = await postToAcs(auth.app, connection.id, { SAMLResponse: unsolicited() })
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.json().error, 'saml_invalid')
    assert.equal(refused.json().reason, 'unsolicited')

    await auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
      payload: { allowIdpInitiated: true },
    })
    const accepted = await postAndConfirm(auth.app, connection.id, { SAMLResponse: unsolicited() })
    assert.equal(accepted.statusCode, 302, accepted.body)
    // An IdP-initiated sign-in lands in the workspace whose IdP vouched.
    assert.equal(accepted.headers.location, `/workspaces/${workspace.id}`)
    assert.ok(sessionCookieOf(accepted))

    await auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
      payload: { enabled: false },
    })
    const disabled = await postToAcs(auth.app, connection.id, { SAMLResponse: unsolicited() })
    assert.equal(disabled.statusCode, 409)
    assert.equal(disabled.json().error, 'sso_disabled')
  })

  it("applies an admin's change made on another instance to that instance's next login, though it cached the connection", async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const idpB = createDevIdp({ keys: await generateSigningKeys() })
    const idpC = createDevIdp({ keys: await generateSigningKeys() })
    const respondAs = (by: DevIdp) => ({
      SAMLResponse: by.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
    })
    const change = (method: 'PUT' | 'PATCH', path: string, payload: object) =>
      auth.app.inject({
        method,
        url: `/v1/workspaces/${workspace.id}/sso${path}`,
        headers: { cookie: owner.cookie },
        payload,
      })
    const useCertificateOf = (by: DevIdp) =>
      change('PUT', '/idp', { ssoUrl: by.loginUrl, entityId: by.entityId, certificate: by.certificatePem })

    const replica = await startAuthApp()
    try {
      // The replica caches the connection by signing someone in through it.
      assert.equal((await postToAcs(replica.app, connection.id, respondAs(idp))).statusCode, 200)

      // Certificate replaced elsewhere: a response signed with the old key, which the replica's
      // copy still trusts, is refused.
      await useCertificateOf(idpB)
      const oldKey = await postToAcs(replica.app, connection.id, respondAs(idp))
      assert.equal(oldKey.statusCode, 400, oldKey.body)
      assert.equal(oldKey.json().error, 'saml_invalid')
      assert.equal(sessionCookieOf(oldKey), undefined)

      // Replaced again: the new IdP's response, which the replica's copy would refuse, is taken.
      await useCertificateOf(idpC)
      const newKey = await postAndConfirm(replica.app, connection.id, respondAs(idpC))
      assert.equal(newKey.statusCode, 302, newKey.body)
      assert.ok(sessionCookieOf(newKey))

      // Turned off elsewhere: refused at once.
      await change('PATCH', '', { enabled: false })
      const off = await postToAcs(replica.app, connection.id, respondAs(idpC))
      assert.equal(off.statusCode, 409, off.body)
      assert.equal(off.json().error, 'sso_disabled')
      assert.equal(sessionCookieOf(off), undefined)
    } finally {
      await replica.close()
    }
  })

  it('stores names from the claims without control characters, and cut to 100 characters', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app)
    const { acs } = await signInSpInitiated(auth.app, connection, idp, {
      email: owner.email,
      // C1 controls: XML 1.0 carries them (NUL and C0 ones, as `&#0;`, are cleaned alike; see names.test.ts).
      firstName: 'Ada\u0085\u009f',
      lastName: 'L'.repeat(300),
    })
    assert.equal(acs.statusCode, 302, acs.body)
    const members = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${connection.workspaceId}/members`,
      headers: { cookie: sessionCookieOf(acs) ?? '' },
    })
    assert.equal(members.json().members[0].firstName, 'Ada')
    assert.equal(members.json().members[0].lastName, 'L'.repeat(100))
  })

  it('logs why each sign-in was refused, without the email or the response', async () => {
    let logged = ''
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        logged += chunk
        done()
      },
    })
    const logging = await startAuthApp({}, { logStream })
    try {
      const { connection, idp } = await workspaceWithSso(logging.app)
      const outsider = uniqueEmail('outsider')
      const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email: outsider } })
      await postToAcs(logging.app, connection.id, { SAMLResponse: samlResponse })
      const refusals = logged
        .split('\n')
        .filter((line) => line.includes('SAML sign-in refused'))
        .map((line) => JSON.parse(line))
      assert.deepEqual(
        refusals.map(({ code, reason }) => ({ code, reason })),
        [{ code: 'saml_invalid', reason: 'unsolicited' }],
      )
      assert.ok(!logged.includes(outsider) && !logged.includes(samlResponse.slice(0, 40)))
    } finally {
      await logging.close()
    }
  })

  it("refuses a response meant for this browser's login when another browser posts it", async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app)
    const started = await startSpLogin(auth.app, connection)
    const samlResponse = idp.responseBase64({
      sp: connection.sp,
      user: { email: owner.email },
      inResponseTo: started.requestId,
    })
    // Without the cookie of its start: unsolicited, which this connection does not allow.
    const response = await postToAcs(auth.app, connection.id, {
      SAMLResponse: samlResponse,
      RelayState: started.relayState,
    })
    assert.equal(response.statusCode, 400)
    assert.equal(sessionCookieOf(response), undefined)
  })

  it('never redirects off-site after login', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app)
    for (const returnTo of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      '/\t/evil.example',
      // Dot segments that resolve to a path reading as another host.
      '/.//evil.example',
      '/x/..//evil.example',
      '/.\\/evil.example',
      'javascript:alert(1)',
    ]) {
      const { acs } = await signInSpInitiated(auth.app, connection, idp, { email: owner.email }, returnTo)
      assert.equal(acs.statusCode, 302, acs.body)
      assert.equal(acs.headers.location, '/', returnTo)
    }
  })

  it('publishes login events, successes and failures, to stream subscribers', async () => {
    const received: Array<Record<string, unknown>> = []
    const subscription = await subscribe({ redisUrl, group: `test-${uniqueSuffix()}`, from: 'now' }, async (event) => {
      received.push(event as unknown as Record<string, unknown>)
    })
    try {
      const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
      const stranger = uniqueEmail('stranger')
      await postToAcs(auth.app, connection.id, {
        SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: stranger } }),
      })
      await postAndConfirm(auth.app, connection.id, {
        SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
      })

      const mine = () =>
        received.filter((event) => event.connectionId === connection.id && String(event.type).startsWith('auth.login.'))
      await eventually('both login events to arrive', async () => (mine().length >= 2 ? true : undefined), {
        timeoutMs: 5000,
        intervalMs: 20,
      })
      const [failed, succeeded] = mine()
      assert.equal(failed?.type, 'auth.login.failed')
      assert.equal(failed?.email, stranger)
      assert.equal(failed?.reason, 'not_a_member')
      assert.equal(failed?.method, 'saml')
      assert.equal(failed?.workspaceId, workspace.id)
      assert.equal(succeeded?.type, 'auth.login.succeeded')
      assert.equal(succeeded?.userId, owner.user.id)
      assert.equal(succeeded?.email, owner.email)
      for (const event of [failed, succeeded]) {
        assert.match(String(event?.id), /^[0-9a-f-]{36}$/)
        assert.ok(event?.occurredAt)
        assert.equal(typeof event?.ip, 'string')
        assert.equal(typeof event?.userAgent, 'string')
      }
    } finally {
      await subscription.close()
    }
  })
})
