import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import type { GatehouseEvent } from '@gatehouse/events'
import { uniqueIp } from '@gatehouse/testing'
import { sql } from 'drizzle-orm'
import { outbox } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  invitationAccepted,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

describe('changing who the IdP is', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const inject = (method: 'PUT' | 'PATCH' | 'DELETE', url: string, cookie: string, payload?: object) =>
    auth.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })

  /** Acme with SSO, and an admin who joined by invitation, signed in with their password. */
  async function acmeWithAdmin() {
    const acme = await workspaceWithSso(auth.app)
    const admin = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(acme.workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    return { ...acme, admin }
  }

  async function eventsAbout(connectionId: string): Promise<GatehouseEvent[]> {
    const rows = await auth.db
      .select()
      .from(outbox)
      .where(sql`${outbox.event}::jsonb ->> 'connectionId' = ${connectionId}`)
    return rows.map((row) => row.event as GatehouseEvent)
  }

  it('refuses an admin without a fresh password: setting the IdP, IdP-initiated sign-in on, deleting; after re-entering it, allows them', async () => {
    const { workspace, admin, connection } = await acmeWithAdmin()
    const attacker = createDevIdp({ keys: await generateSigningKeys() })
    const url = `/v1/workspaces/${workspace.id}/sso`
    const repoint = { ssoUrl: attacker.loginUrl, entityId: attacker.entityId, certificate: attacker.certificatePem }
    const refused = [
      await inject('PUT', `${url}/idp`, admin.cookie, repoint),
      await inject('PATCH', url, admin.cookie, { allowIdpInitiated: true }),
      await inject('DELETE', url, admin.cookie),
    ]
    for (const response of refused) {
      assert.equal(response.statusCode, 403, response.body)
      assert.equal(response.json().error, 'password_confirmation_required')
    }
    // What does not change who the IdP is stays the admin's.
    assert.equal((await inject('PATCH', url, admin.cookie, { enabled: false })).statusCode, 200)

    const wrong = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/reauthenticate',
      headers: { cookie: admin.cookie },
      remoteAddress: uniqueIp(),
      payload: { password: 'not the password at all' },
    })
    assert.equal(wrong.statusCode, 401)
    assert.equal((await inject('PUT', `${url}/idp`, admin.cookie, repoint)).statusCode, 403)

    const reauthenticated = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/reauthenticate',
      headers: { cookie: admin.cookie },
      remoteAddress: uniqueIp(),
      payload: { password: strongPassword },
    })
    assert.equal(reauthenticated.statusCode, 204)
    const saved = await inject('PUT', `${url}/idp`, admin.cookie, repoint)
    assert.equal(saved.statusCode, 200, saved.body)
    assert.notDeepEqual(saved.json().connection.idp.certificates, connection.idp?.certificates)
  })

  it('ends the sessions a connection opened when it is turned off, re-pointed or deleted, saying why, and tells the owners', async () => {
    for (const change of ['turned off', 're-pointed', 'deleted'] as const) {
      const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app)
      const member = await signUp(auth.app)
      await auth.app.workspaces.grantMembershipFromInvitation(
        invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
      )
      const { acs } = await signInSpInitiated(auth.app, connection, idp, { email: member.email })
      const ssoCookie = sessionCookieOf(acs) as string
      assert.equal(
        (await auth.app.inject({ url: `/v1/workspaces/${workspace.id}`, headers: { cookie: ssoCookie } })).statusCode,
        200,
      )

      const url = `/v1/workspaces/${workspace.id}/sso`
      const response =
        change === 'turned off'
          ? await inject('PATCH', url, owner.cookie, { enabled: false })
          : change === 're-pointed'
            ? await inject('PUT', `${url}/idp`, owner.cookie, {
                ssoUrl: idp.loginUrl,
                entityId: `${idp.entityId}/other`,
                certificate: idp.certificatePem,
              })
            : await inject('DELETE', url, owner.cookie)
      assert.ok(response.statusCode < 300, `${change}: ${response.body}`)

      const after = await auth.app.inject({ url: `/v1/workspaces/${workspace.id}`, headers: { cookie: ssoCookie } })
      assert.equal(after.statusCode, 401, change)
      // The member's and the owner's password sign-ins are untouched.
      assert.equal(
        (await auth.app.inject({ url: '/v1/auth/session', headers: { cookie: member.cookie } })).statusCode,
        200,
      )

      const events = await eventsAbout(connection.id)
      const logout = events.find((event) => event.type === 'auth.logout' && event.userId === member.user.id)
      assert.deepEqual(
        logout && {
          method: logout.type === 'auth.logout' && logout.method,
          reason: 'reason' in logout && logout.reason,
        },
        { method: 'saml', reason: 'connection_changed' },
        change,
      )
      const announced = events.find((event) => event.type === 'sso.connection.changed')
      assert.ok(announced && announced.type === 'sso.connection.changed', change)
      assert.deepEqual(announced.notify, [owner.email], change)
      assert.equal(announced.by, owner.user.id)
      assert.deepEqual(announced.actingSession, { method: 'password' })
    }
  })
})
