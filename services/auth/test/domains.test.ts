import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startDnsServer, type TestDnsServer, uniqueEmail, uniqueIp, uniqueSuffix } from '@gatehouse/testing'
import type { FastifyInstance } from 'fastify'
import {
  type AuthTestApp,
  createWorkspace,
  invitationAccepted,
  signInSpInitiated,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

interface DomainClaimView {
  domain: string
  status: 'pending' | 'verified'
  txtRecord: { name: string; value: string }
}

const uniqueDomain = () => `acme-${uniqueSuffix()}.test`

function discover(app: FastifyInstance, email: string) {
  return app.inject({ method: 'POST', url: '/v1/auth/sso/discover', remoteAddress: uniqueIp(), payload: { email } })
}

function claim(app: FastifyInstance, cookie: string, workspaceId: string, domain: string) {
  return app.inject({
    method: 'POST',
    url: `/v1/workspaces/${workspaceId}/domains`,
    headers: { cookie },
    payload: { domain },
  })
}

function verify(app: FastifyInstance, cookie: string, workspaceId: string, domain: string) {
  return app.inject({
    method: 'POST',
    url: `/v1/workspaces/${workspaceId}/domains/${encodeURIComponent(domain)}/verify`,
    headers: { cookie },
  })
}

describe('email domains claimed by workspaces, and discovery by verified domain', () => {
  let dns: TestDnsServer
  let auth: AuthTestApp
  before(async () => {
    dns = await startDnsServer()
    auth = await startAuthApp({ DNS_SERVERS: dns.address })
  })
  after(async () => {
    await auth.close()
    await dns.close()
  })

  /** A workspace with SSO on whose owner has claimed `domain` and published its TXT record. */
  async function verifiedWorkspace(domain = uniqueDomain()) {
    const sso = await workspaceWithSso(auth.app)
    const claimed = await claim(auth.app, sso.owner.cookie, sso.workspace.id, domain)
    assert.equal(claimed.statusCode, 201, claimed.body)
    const record = (claimed.json().domain as DomainClaimView).txtRecord
    dns.setTxt(record.name, [record.value])
    const verified = await verify(auth.app, sso.owner.cookie, sso.workspace.id, domain)
    assert.equal(verified.statusCode, 200, verified.body)
    return { ...sso, domain }
  }

  it('an owner claims a domain, publishes the TXT record, verifies it, and discovery then routes its emails to the SSO connection', async () => {
    const { owner, workspace, connection } = await workspaceWithSso(auth.app)
    const domain = uniqueDomain()
    const claimed = await claim(auth.app, owner.cookie, workspace.id, `${domain.toUpperCase()}.`)
    assert.equal(claimed.statusCode, 201)
    const pending = claimed.json().domain as DomainClaimView
    assert.equal(pending.domain, domain)
    assert.equal(pending.status, 'pending')
    assert.equal(pending.txtRecord.name, `_gatehouse-challenge.${domain}`)
    assert.match(pending.txtRecord.value, /^gatehouse-verification=[\w-]{32}$/)
    const again = await claim(auth.app, owner.cookie, workspace.id, domain)
    assert.deepEqual(again.json().domain, pending, 'claiming again answers the same claim')

    const colleague = `jane@${domain}`
    assert.deepEqual(
      (await discover(auth.app, colleague)).json(),
      { connections: [] },
      'an unverified claim never routes',
    )

    const missing = await verify(auth.app, owner.cookie, workspace.id, domain)
    assert.equal(missing.statusCode, 409)
    assert.equal(missing.json().error, 'domain_not_verified')
    assert.equal(missing.json().reason, 'no_record')
    dns.setTxt(pending.txtRecord.name, ['gatehouse-verification=someone-elses-token', 'v=spf1 -all'])
    const mismatch = await verify(auth.app, owner.cookie, workspace.id, domain)
    assert.equal(mismatch.statusCode, 409)
    assert.equal(mismatch.json().reason, 'record_mismatch')
    assert.deepEqual(
      (await discover(auth.app, colleague)).json(),
      { connections: [] },
      'a failed verification never routes',
    )

    dns.setTxt(pending.txtRecord.name, ['v=spf1 -all', pending.txtRecord.value])
    const verified = await verify(auth.app, owner.cookie, workspace.id, domain)
    assert.equal(verified.statusCode, 200)
    assert.equal(verified.json().domain.status, 'verified')
    for (const email of [colleague, `JANE@${domain.toUpperCase()}`]) {
      const found = await discover(auth.app, email)
      assert.equal(found.statusCode, 200)
      assert.deepEqual(found.json(), { connections: [{ loginUrl: connection.sp.loginUrl }] })
    }
    assert.deepEqual(
      (await discover(auth.app, `jane@sub.${domain}`)).json(),
      { connections: [] },
      'subdomains are claims of their own',
    )

    const listed = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/domains`,
      headers: { cookie: owner.cookie },
    })
    assert.deepEqual(
      listed.json().domains.map((entry: DomainClaimView) => [entry.domain, entry.status]),
      [[domain, 'verified']],
    )

    const removed = await auth.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/domains/${domain}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(removed.statusCode, 204)
    assert.deepEqual((await discover(auth.app, colleague)).json(), { connections: [] }, 'a removed claim stops routing')
  })

  it('discovery answers every email without a verified domain identically, members of SSO workspaces included', async () => {
    // The owner and an invited member of a workspace with SSO, at a domain nobody verified.
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const answers = await Promise.all(
      [owner.email, member.email, uniqueEmail('stranger'), 'not an email', ''].map((email) =>
        discover(auth.app, email),
      ),
    )
    for (const answer of answers) {
      assert.equal(answer.statusCode, 200)
      assert.equal(answer.body, '{"connections":[]}')
      assert.ok(!answer.body.includes(workspace.id))
    }
  })

  it('discovery for a verified domain names no workspace, and routes only while the workspace has SSO on', async () => {
    const { owner, workspace, connection, domain } = await verifiedWorkspace()
    const found = await discover(auth.app, `anyone@${domain}`)
    assert.equal(found.body, JSON.stringify({ connections: [{ loginUrl: connection.sp.loginUrl }] }))
    assert.ok(!found.body.includes(workspace.id))
    await auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
      payload: { enabled: false },
    })
    assert.deepEqual((await discover(auth.app, `anyone@${domain}`)).json(), { connections: [] })
  })

  it('a domain verified by one workspace cannot be claimed or verified by another', async () => {
    const domain = uniqueDomain()
    const rival = await workspaceWithSso(auth.app)
    const rivalClaim = (await claim(auth.app, rival.owner.cookie, rival.workspace.id, domain)).json()
      .domain as DomainClaimView
    const first = await verifiedWorkspace(domain)

    // The rival published its own token too, but the first to verify keeps the domain.
    dns.setTxt(rivalClaim.txtRecord.name, [rivalClaim.txtRecord.value])
    const late = await verify(auth.app, rival.owner.cookie, rival.workspace.id, domain)
    assert.equal(late.statusCode, 409)
    assert.equal(late.json().error, 'domain_taken')
    const newcomer = await signUp(auth.app)
    const newWorkspace = await createWorkspace(auth.app, newcomer.cookie)
    const refused = await claim(auth.app, newcomer.cookie, newWorkspace.id, domain)
    assert.equal(refused.statusCode, 409)
    assert.equal(refused.json().error, 'domain_taken')
    assert.deepEqual((await discover(auth.app, `x@${domain}`)).json(), {
      connections: [{ loginUrl: first.connection.sp.loginUrl }],
    })

    // Once the first gives it up, the rival's published record verifies.
    await auth.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${first.workspace.id}/domains/${domain}`,
      headers: { cookie: first.owner.cookie },
    })
    assert.equal((await verify(auth.app, rival.owner.cookie, rival.workspace.id, domain)).statusCode, 200)
    assert.deepEqual((await discover(auth.app, `x@${domain}`)).json(), {
      connections: [{ loginUrl: rival.connection.sp.loginUrl }],
    })
  })

  it('only the owner may claim, verify, list or remove domains', async () => {
    const { workspace, domain } = await verifiedWorkspace()
    for (const role of ['admin', 'member'] as const) {
      const person = await signUp(auth.app)
      await auth.app.workspaces.grantMembershipFromInvitation(
        invitationAccepted(workspace.id, { userId: person.user.id, email: person.email }, role),
      )
      const headers = { cookie: person.cookie }
      const attempts = [
        { method: 'GET' as const, url: `/v1/workspaces/${workspace.id}/domains` },
        { method: 'POST' as const, url: `/v1/workspaces/${workspace.id}/domains`, payload: { domain: uniqueDomain() } },
        { method: 'POST' as const, url: `/v1/workspaces/${workspace.id}/domains/${domain}/verify` },
        { method: 'DELETE' as const, url: `/v1/workspaces/${workspace.id}/domains/${domain}` },
      ]
      for (const attempt of attempts) {
        const response = await auth.app.inject({ ...attempt, headers })
        assert.equal(response.statusCode, 403, `${role}: ${attempt.method} ${attempt.url}`)
      }
    }
    const stranger = await signUp(auth.app)
    const refused = await claim(auth.app, stranger.cookie, workspace.id, uniqueDomain())
    assert.equal(refused.statusCode, 403)
    const anonymous = await auth.app.inject({ method: 'GET', url: `/v1/workspaces/${workspace.id}/domains` })
    assert.equal(anonymous.statusCode, 401)
  })

  it('refuses what is not a domain name', async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    for (const domain of [
      'localhost',
      'exa mple.com',
      '-bad.example',
      'a..b',
      '127.0.0.1',
      `${'x'.repeat(64)}.com`,
      'evil.example/path',
    ]) {
      const response = await claim(auth.app, owner.cookie, workspace.id, domain)
      assert.equal(response.statusCode, 400, domain)
      assert.equal(response.json().error, 'invalid_domain', domain)
    }
  })

  it('a member routed by discovery signs in through the IdP and lands in the workspace it vouched for', async () => {
    const { connection, idp, workspace, domain } = await verifiedWorkspace()
    const member = await signUp(auth.app, `pat-${uniqueSuffix()}@${domain}`)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const { connections } = (await discover(auth.app, member.email)).json()
    assert.deepEqual(connections, [{ loginUrl: connection.sp.loginUrl }])
    // No page to return to: the IdP's answer decides where the person lands.
    const { acs } = await signInSpInitiated(auth.app, connection, idp, { email: member.email }, null)
    assert.equal(acs.statusCode, 302)
    assert.equal(acs.headers.location, `/workspaces/${workspace.id}`)
  })
})
