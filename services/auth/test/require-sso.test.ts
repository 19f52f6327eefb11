import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GatehouseEvent } from '@gatehouse/events'
import { uniqueIp } from '@gatehouse/testing'
import { and, eq, sql } from 'drizzle-orm'
import { auditLog, outbox } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  createWorkspace,
  invitationAccepted,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

describe('requireSso: members reach the workspace only through its IdP', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const get = (url: string, cookie: string) => auth.app.inject({ method: 'GET', url, headers: { cookie } })
  const requireSso = (workspaceId: string, cookie: string) =>
    auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspaceId}/sso`,
      headers: { cookie },
      payload: { requireSso: true },
    })

  /** A workspace that requires SSO, turned on by its owner right after signing in through it; and a member. */
  async function workspaceRequiringSso() {
    const acme = await workspaceWithSso(auth.app)
    const refused = await requireSso(acme.workspace.id, acme.owner.cookie)
    assert.equal(refused.statusCode, 409, refused.body)
    assert.equal(refused.json().error, 'sso_sign_in_required')

    const { acs } = await signInSpInitiated(
      auth.app,
      acme.connection,
      acme.idp,
      { email: acme.owner.email },
      '/',
      acme.owner.cookie,
    )
    const ownerBoth = sessionCookieOf(acs) as string
    const turnedOn = await requireSso(acme.workspace.id, ownerBoth)
    assert.equal(turnedOn.statusCode, 200, turnedOn.body)
    assert.equal(turnedOn.json().connection.requireSso, true)

    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(acme.workspace.id, { userId: member.user.id, email: member.email }, 'admin'),
    )
    return { ...acme, member }
  }

  it('can be turned on only right after the person signed in through the active connection', async () => {
    // workspaceRequiringSso asserts the refusal with a password session and the success after SSO.
    const { workspace, owner } = await workspaceRequiringSso()
    const session = (await get('/v1/auth/session', owner.cookie)).json()
    const membership = session.memberships.find(
      (candidate: { workspaceId: string }) => candidate.workspaceId === workspace.id,
    )
    assert.equal(membership.ssoRequired, true)
    assert.equal(membership.reachable, false)
  })

  it("answers a member's password session reauthentication_required, pointing at the workspace's SSO, and lets them in after it", async () => {
    const { workspace, connection, idp, member } = await workspaceRequiringSso()
    const refused = await get(`/v1/workspaces/${workspace.id}`, member.cookie)
    assert.equal(refused.statusCode, 403)
    assert.equal(refused.json().error, 'reauthentication_required')
    assert.deepEqual(refused.json().signIn, { sso: `/sso/saml/${connection.id}/login` })
    // Their password still reaches their workspaces that do not require SSO.
    const own = await createWorkspace(auth.app, member.cookie, 'Own')
    assert.equal((await get(`/v1/workspaces/${own.id}`, member.cookie)).statusCode, 200)

    const { acs } = await signInSpInitiated(auth.app, connection, idp, { email: member.email }, '/', member.cookie)
    const both = sessionCookieOf(acs) as string
    assert.equal((await get(`/v1/workspaces/${workspace.id}`, both)).statusCode, 200)
    assert.equal((await get(`/v1/workspaces/${own.id}`, both)).statusCode, 200)
  })

  it("ends the owner's password way back in once they are no longer its owner", async () => {
    const { workspace, owner, member } = await workspaceRequiringSso()
    const recovered = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/sso/recovery`,
      headers: { cookie: owner.cookie },
      remoteAddress: uniqueIp(),
      payload: { password: strongPassword },
    })
    assert.equal(recovered.statusCode, 204, recovered.body)
    const transferred = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/ownership`,
      headers: { cookie: owner.cookie },
      payload: { userId: member.user.id },
    })
    assert.equal(transferred.statusCode, 204, transferred.body)
    // An admin now: the workspace's SSO is their way in, as for every other admin.
    const refused = await get(`/v1/workspaces/${workspace.id}`, owner.cookie)
    assert.equal(refused.statusCode, 403, refused.body)
    assert.equal(refused.json().error, 'reauthentication_required')
  })

  it('keeps the owner a password way back in: audited, and announced to the other owners and the admins', async () => {
    const { workspace, owner, member } = await workspaceRequiringSso()
    assert.equal((await get(`/v1/workspaces/${workspace.id}`, owner.cookie)).statusCode, 403)
    const recover = (cookie: string, password: string) =>
      auth.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${workspace.id}/sso/recovery`,
        headers: { cookie },
        remoteAddress: uniqueIp(),
        payload: { password },
      })
    assert.equal((await recover(member.cookie, strongPassword)).statusCode, 403, 'an admin is not the owner')
    assert.equal((await recover(owner.cookie, 'not the password')).statusCode, 401)
    const recovered = await recover(owner.cookie, strongPassword)
    assert.equal(recovered.statusCode, 204, recovered.body)
    assert.equal((await get(`/v1/workspaces/${workspace.id}`, owner.cookie)).statusCode, 200)

    const audit = await auth.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspace.id), eq(auditLog.action, 'sso.owner_recovery')))
    assert.equal(audit.length, 1)
    assert.equal(audit[0]?.actorUserId, owner.user.id)
    const [announced] = (
      await auth.db
        .select()
        .from(outbox)
        .where(
          sql`${outbox.event}::jsonb ->> 'type' = 'sso.recovery.used' and ${outbox.event}::jsonb ->> 'workspaceId' = ${workspace.id}`,
        )
    ).map((row) => row.event as GatehouseEvent)
    assert.ok(announced?.type === 'sso.recovery.used')
    assert.deepEqual(announced.notify, [member.email])
    assert.equal(announced.by, owner.user.id)
  })
})
