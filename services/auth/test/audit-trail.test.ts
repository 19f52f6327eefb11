import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createEvent } from '@gatehouse/events'
import { uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import { auditInvitationChange } from '../src/audit/invitations.ts'
import { type AuthTestApp, invitationAccepted, signUp, startAuthApp, workspaceWithSso } from './harness.ts'

interface AuditEntryView {
  action: string
  at: string
  ip: string | null
  actor: { userId: string | null; email: string | null; method: string; setupLinkId: string | null }
  changes: Record<string, unknown>
}

describe('the audit trail of a workspace', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const trail = async (workspaceId: string, cookie: string, query = '') => {
    const response = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspaceId}/audit${query}`,
      headers: { cookie },
    })
    return response
  }

  it('records each SSO, certificate, enforcement and domain change with who, how, from where and what, certificates by fingerprint only', async () => {
    const { owner, workspace, idp } = await workspaceWithSso(auth.app)
    const from = '203.0.113.77'
    const change = (method: string, url: string, payload?: object) =>
      auth.app.inject({
        method: method as 'POST',
        url: `/v1/workspaces/${workspace.id}${url}`,
        headers: { cookie: owner.cookie },
        remoteAddress: from,
        ...(payload ? { payload } : {}),
      })
    assert.equal((await change('PATCH', '/sso', { allowIdpInitiated: true })).statusCode, 200)
    const domain = `acme-${uniqueSuffix()}.test`
    assert.equal((await change('POST', '/domains', { domain })).statusCode, 201)
    assert.equal((await change('DELETE', `/domains/${domain}`)).statusCode, 204)

    const response = await trail(workspace.id, owner.cookie)
    assert.equal(response.statusCode, 200, response.body)
    const entries = response.json().entries as AuditEntryView[]
    assert.deepEqual(
      entries.map((entry) => entry.action),
      ['domain.removed', 'domain.claimed', 'sso.updated', 'sso.idp_configured', 'sso.created', 'workspace.created'],
    )
    for (const entry of entries) {
      assert.equal(entry.actor.userId, owner.user.id)
      assert.equal(entry.actor.email, owner.email)
      assert.equal(entry.actor.method, 'password')
    }
    assert.equal(entries[0]?.ip, from)
    assert.deepEqual(entries[2]?.changes, { allowIdpInitiated: true })
    const configured = entries[3]?.changes as { certificateFingerprints: string[]; entityId: string }
    assert.equal(configured.entityId, idp.entityId)
    assert.match(configured.certificateFingerprints[0] as string, /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/)
    assert.ok(!response.body.includes(idp.certificatePem.split('\n')[1]?.slice(0, 40) as string), 'no certificate')
  })

  it('pages newest first with an opaque cursor', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    for (const enabled of [false, true, false]) {
      await auth.app.inject({
        method: 'PATCH',
        url: `/v1/workspaces/${workspace.id}/sso`,
        headers: { cookie: owner.cookie },
        payload: { enabled },
      })
    }
    const seen: string[] = []
    let cursor = ''
    for (let pages = 0; pages < 5; pages++) {
      const page = (await trail(workspace.id, owner.cookie, `?limit=2${cursor}`)).json()
      seen.push(...page.entries.map((entry: AuditEntryView & { id: string }) => `${entry.id} ${entry.action}`))
      if (!page.nextCursor) break
      cursor = `&cursor=${page.nextCursor}`
    }
    assert.equal(seen.length, 6)
    assert.equal(new Set(seen).size, 6, 'no entry twice')
    assert.deepEqual(
      seen.map((entry) => entry.split(' ')[1]),
      ['sso.updated', 'sso.updated', 'sso.updated', 'sso.idp_configured', 'sso.created', 'workspace.created'],
    )
    assert.equal((await trail(workspace.id, owner.cookie, '?cursor=bm9wZQ')).json().error, 'bad_request')
  })

  it('is for the workspace’s owners and admins only', async () => {
    const { workspace } = await workspaceWithSso(auth.app)
    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const asMember = await trail(workspace.id, member.cookie)
    assert.equal(asMember.statusCode, 403)
    assert.equal(
      asMember.json().message,
      'Only a workspace owner or admin can do this.',
      'the least role that would do',
    )
    const stranger = await signUp(auth.app)
    assert.equal((await trail(workspace.id, stranger.cookie)).statusCode, 403)
  })

  it('records invitations (from the invitation service’s events, once each) and the member who joins', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const email = uniqueEmail()
    const created = createEvent('invitation.created', {
      invitationId: randomUUID(),
      workspaceId: workspace.id,
      email,
      role: 'admin',
      by: owner.user.id,
      ip: '198.51.100.9',
      actingSession: { method: 'password' },
    })
    await auditInvitationChange(auth.db, created)
    await auditInvitationChange(auth.db, created)
    const joiner = await signUp(auth.app, email)
    const accepted = invitationAccepted(workspace.id, { userId: joiner.user.id, email }, 'admin')
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(accepted), 'granted')
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(accepted), 'duplicate')

    const entries = (await trail(workspace.id, owner.cookie)).json().entries as AuditEntryView[]
    const invitation = entries.filter((entry) => entry.action === 'invitation.created')
    assert.equal(invitation.length, 1, 'a redelivered event adds nothing')
    assert.equal(invitation[0]?.ip, '198.51.100.9')
    assert.equal(invitation[0]?.actor.email, owner.email)
    assert.deepEqual(invitation[0]?.changes, { invitationId: created.invitationId, email, role: 'admin' })
    const joined = entries.filter((entry) => entry.action === 'membership.joined')
    assert.equal(joined.length, 1)
    assert.equal(joined[0]?.actor.userId, joiner.user.id)
    assert.equal(joined[0]?.changes.role, 'admin')
  })

  it('records role changes and removals with the address they came from', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const from = '203.0.113.90'
    const promoted = await auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/members/${member.user.id}`,
      headers: { cookie: owner.cookie },
      remoteAddress: from,
      payload: { role: 'admin' },
    })
    assert.equal(promoted.statusCode, 200, promoted.body)
    const removed = await auth.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/members/${member.user.id}`,
      headers: { cookie: owner.cookie },
      remoteAddress: from,
    })
    assert.equal(removed.statusCode, 204, removed.body)
    const entries = (await trail(workspace.id, owner.cookie)).json().entries as AuditEntryView[]
    const [removal, roleChange] = entries
    assert.equal(removal?.action, 'membership.removed')
    assert.equal(roleChange?.action, 'membership.role_changed')
    assert.deepEqual(roleChange?.changes, { userId: member.user.id, role: 'admin', previousRole: 'member' })
    for (const entry of [removal, roleChange]) {
      assert.equal(entry?.ip, from)
      assert.equal(entry?.actor.email, owner.email)
    }
  })
})
