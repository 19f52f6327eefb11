import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GatehouseEvent } from '@gatehouse/events'
import { sql } from 'drizzle-orm'
import { outbox } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  createWorkspace,
  invitationAccepted,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

describe('memberships: removal, roles, leaving, ownership', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, cookie: string, payload?: object) =>
    auth.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })

  async function join(workspaceId: string, role: 'member' | 'admin' = 'member') {
    const person = await signUp(auth.app)
    const granted = await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspaceId, { userId: person.user.id, email: person.email }, role),
    )
    assert.equal(granted, 'granted')
    return person
  }

  async function eventsAbout(workspaceId: string, userId: string): Promise<GatehouseEvent[]> {
    const rows = await auth.db
      .select()
      .from(outbox)
      .where(sql`${outbox.event}::jsonb ->> 'userId' = ${userId}`)
      .orderBy(outbox.createdAt)
    return rows
      .map((row) => row.event as GatehouseEvent)
      .filter((event) => !('workspaceId' in event) || event.workspaceId === workspaceId || event.type === 'auth.logout')
  }

  const roleOf = async (workspaceId: string, cookie: string, userId: string) =>
    (await inject('GET', `/v1/workspaces/${workspaceId}/members`, cookie))
      .json()
      .members.find((member: { userId: string }) => member.userId === userId)?.role

  it('a removed member’s SSO session ends at once and their next SSO into the workspace is refused; their password sign-in keeps their own workspace', async () => {
    const acme = await workspaceWithSso(auth.app)
    const person = await join(acme.workspace.id)
    const beta = await createWorkspace(auth.app, person.cookie, 'Beta')
    const signedIn = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
    const ssoCookie = sessionCookieOf(signedIn.acs)
    assert.ok(ssoCookie)
    assert.equal((await inject('GET', `/v1/workspaces/${acme.workspace.id}`, ssoCookie)).statusCode, 200)

    const removed = await inject(
      'DELETE',
      `/v1/workspaces/${acme.workspace.id}/members/${person.user.id}`,
      acme.owner.cookie,
    )
    assert.equal(removed.statusCode, 204, removed.body)

    assert.equal((await inject('GET', '/v1/auth/session', ssoCookie)).json().error, 'unauthenticated')
    const again = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
    assert.equal(again.acs.statusCode, 403, again.acs.body)
    assert.equal(again.acs.json().error, 'sso_not_allowed')
    assert.equal((await inject('GET', `/v1/workspaces/${acme.workspace.id}`, person.cookie)).json().error, 'forbidden')
    assert.equal((await inject('GET', `/v1/workspaces/${beta.id}`, person.cookie)).statusCode, 200)

    const events = await eventsAbout(acme.workspace.id, person.user.id)
    const logout = events.find((event) => event.type === 'auth.logout')
    assert.deepEqual(logout && { reason: logout.reason, method: logout.method, workspaceId: logout.workspaceId }, {
      reason: 'membership_removed',
      method: 'saml',
      workspaceId: acme.workspace.id,
    })
    const removal = events.find((event) => event.type === 'membership.removed')
    assert.deepEqual(
      removal && { by: removal.by, email: removal.email, role: removal.role, acting: removal.actingSession },
      { by: acme.owner.user.id, email: person.email, role: 'member', acting: { method: 'password' } },
    )

    // Re-inviting is the way back.
    const regranted = await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(acme.workspace.id, { userId: person.user.id, email: person.email }),
    )
    assert.equal(regranted, 'granted')
    const back = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
    assert.equal(back.acs.statusCode, 302, back.acs.body)
  })

  it('admins remove members but not admins or owners; only owners change roles', async () => {
    const acme = await workspaceWithSso(auth.app)
    const admin = await join(acme.workspace.id, 'admin')
    const otherAdmin = await join(acme.workspace.id, 'admin')
    const member = await join(acme.workspace.id)
    const base = `/v1/workspaces/${acme.workspace.id}/members`

    for (const target of [otherAdmin.user.id, acme.owner.user.id]) {
      const refused = await inject('DELETE', `${base}/${target}`, admin.cookie)
      assert.equal(refused.statusCode, 403)
      assert.equal(refused.json().error, 'role_not_manageable')
    }
    const promote = await inject('PATCH', `${base}/${member.user.id}`, admin.cookie, { role: 'admin' })
    assert.equal(promote.json().error, 'forbidden')
    const memberRemoves = await inject('DELETE', `${base}/${admin.user.id}`, member.cookie)
    assert.equal(memberRemoves.json().error, 'forbidden')

    const made = await inject('PATCH', `${base}/${member.user.id}`, acme.owner.cookie, { role: 'admin' })
    assert.deepEqual(made.json(), { userId: member.user.id, role: 'admin' })
    const unmade = await inject('PATCH', `${base}/${otherAdmin.user.id}`, acme.owner.cookie, { role: 'member' })
    assert.equal(unmade.statusCode, 200)
    assert.equal(await roleOf(acme.workspace.id, acme.owner.cookie, otherAdmin.user.id), 'member')
    const changed = (await eventsAbout(acme.workspace.id, member.user.id)).find(
      (event) => event.type === 'membership.role_changed',
    )
    assert.deepEqual(changed && { role: changed.role, previousRole: changed.previousRole, by: changed.by }, {
      role: 'admin',
      previousRole: 'member',
      by: acme.owner.user.id,
    })

    assert.equal((await inject('DELETE', `${base}/${otherAdmin.user.id}`, admin.cookie)).statusCode, 204)
    assert.equal(
      (await inject('DELETE', `${base}/${otherAdmin.user.id}`, admin.cookie)).json().error,
      'member_not_found',
    )
  })

  it('never leaves a workspace without an owner: removing, demoting and leaving are refused for the last owner until ownership moves', async () => {
    const acme = await workspaceWithSso(auth.app)
    const admin = await join(acme.workspace.id, 'admin')
    const owner = acme.owner
    const base = `/v1/workspaces/${acme.workspace.id}`
    const refusals = [
      await inject('DELETE', `${base}/members/${owner.user.id}`, owner.cookie),
      await inject('PATCH', `${base}/members/${owner.user.id}`, owner.cookie, { role: 'admin' }),
      await inject('POST', `${base}/leave`, owner.cookie),
    ]
    for (const refusal of refusals) {
      assert.equal(refusal.statusCode, 409, refusal.body)
      assert.equal(refusal.json().error, 'last_owner')
    }
    assert.equal(
      (await inject('POST', `${base}/ownership`, owner.cookie, { userId: owner.user.id })).json().error,
      'already_owner',
    )
    assert.equal(
      (await inject('POST', `${base}/ownership`, admin.cookie, { userId: admin.user.id })).json().error,
      'forbidden',
    )

    const transferred = await inject('POST', `${base}/ownership`, owner.cookie, { userId: admin.user.id })
    assert.equal(transferred.statusCode, 204, transferred.body)
    assert.equal(await roleOf(acme.workspace.id, admin.cookie, admin.user.id), 'owner')
    assert.equal(await roleOf(acme.workspace.id, admin.cookie, owner.user.id), 'admin')

    const left = await inject('POST', `${base}/leave`, owner.cookie)
    assert.equal(left.statusCode, 204, left.body)
    assert.equal((await inject('GET', base, owner.cookie)).json().error, 'forbidden')
    const leftEvent = (await eventsAbout(acme.workspace.id, owner.user.id)).find(
      (event) => event.type === 'membership.removed',
    )
    assert.equal(leftEvent?.type === 'membership.removed' && leftEvent.by, owner.user.id)
    assert.equal((await inject('POST', `${base}/leave`, admin.cookie)).json().error, 'last_owner')
  })

  it('two owners demoting each other at once leave one owner', async () => {
    const acme = await workspaceWithSso(auth.app)
    const second = await join(acme.workspace.id, 'admin')
    const base = `/v1/workspaces/${acme.workspace.id}/members`
    await inject('PATCH', `${base}/${second.user.id}`, acme.owner.cookie, { role: 'owner' })
    const [first, other] = await Promise.all([
      inject('PATCH', `${base}/${second.user.id}`, acme.owner.cookie, { role: 'member' }),
      inject('PATCH', `${base}/${acme.owner.user.id}`, second.cookie, { role: 'member' }),
    ])
    const codes = [first, other].map((response) => response.json().error ?? response.statusCode).sort()
    assert.ok(
      JSON.stringify(codes) === JSON.stringify([200, 'role_not_manageable']) ||
        JSON.stringify(codes) === JSON.stringify([200, 'last_owner']),
      JSON.stringify(codes),
    )
    const members = (await inject('GET', `/v1/workspaces/${acme.workspace.id}/members`, acme.owner.cookie)).json()
      .members as { role: string }[]
    assert.equal(members.filter((member) => member.role === 'owner').length, 1)
  })

  it('a member signed in through the workspace’s SSO leaves it, and that session ends', async () => {
    const acme = await workspaceWithSso(auth.app)
    const person = await join(acme.workspace.id)
    const signedIn = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
    const ssoCookie = sessionCookieOf(signedIn.acs) ?? ''
    const left = await inject('POST', `/v1/workspaces/${acme.workspace.id}/leave`, ssoCookie)
    assert.equal(left.statusCode, 204, left.body)
    assert.equal((await inject('GET', '/v1/auth/session', ssoCookie)).statusCode, 401)
  })
})
