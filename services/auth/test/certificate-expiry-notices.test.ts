import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GatehouseEvent } from '@gatehouse/events'
import { sql } from 'drizzle-orm'
import { createIsolatedDatabase, type IsolatedDatabase } from '../../../test/support/isolated-database.ts'
import { outbox } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  createWorkspace,
  devIdpWithCertificateEnding,
  invitationAccepted,
  signUp,
  startAuthApp,
} from './harness.ts'

const dayMs = 24 * 60 * 60 * 1000

// The invitation service mails what these events say (its certificate-expiry-notices test).
describe('certificate expiry notices, 30, 7 and 1 days before the end', () => {
  let database: IsolatedDatabase
  let auth: AuthTestApp
  let databaseUrl: string
  before(async () => {
    // A database of its own: no other file's replica runs this workspace's scheduler.
    database = await createIsolatedDatabase()
    databaseUrl = database.url
    auth = await startAuthApp({}, { databaseUrl })
  })
  after(async () => {
    await auth.close()
    await database.drop()
  })

  it('announces each threshold once to the owners and admins, with two replicas running the scheduler and one restarting', async () => {
    // A certificate ending 40 days from now (so the real clock of other apps announces nothing yet).
    const notAfter = new Date(Math.floor((Date.now() + 40 * dayMs) / 1000) * 1000)
    const idp = await devIdpWithCertificateEnding(notAfter)
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie, 'Expiring Co')
    const admin = await signUp(auth.app)
    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const headers = { cookie: owner.cookie }
    await auth.app.inject({ method: 'POST', url: `/v1/workspaces/${workspace.id}/sso`, headers })
    const saved = await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers,
      payload: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    assert.equal(saved.statusCode, 200, saved.body)
    const connectionId = saved.json().connection.id as string

    // Two replicas whose schedulers read one pinned clock (never the timers): the test moves it.
    let pinned = new Date(notAfter.getTime() - 31 * dayMs)
    const now = () => pinned
    let first = await startAuthApp({}, { now, databaseUrl })
    const second = await startAuthApp({}, { now, databaseUrl })
    try {
      const bothRun = () =>
        Promise.all([first.app.ssoUpkeep.announceExpiries(), second.app.ssoUpkeep.announceExpiries()])
      const expiring = async () => {
        const rows = await auth.db
          .select()
          .from(outbox)
          .where(sql`${outbox.event}::jsonb ->> 'connectionId' = ${connectionId}`)
        return rows
          .map((row) => row.event as GatehouseEvent)
          .filter((event) => event.type === 'sso.certificate.expiring')
      }

      await bothRun()
      assert.equal((await expiring()).length, 0, '31 days left: nothing yet')

      pinned = new Date(notAfter.getTime() - 29 * dayMs)
      await bothRun()
      await bothRun()
      // A restart: the first replica stops and a new process takes its place.
      await first.close()
      first = await startAuthApp({}, { now, databaseUrl })
      await bothRun()
      assert.deepEqual(
        (await expiring()).map((event) => event.type === 'sso.certificate.expiring' && event.daysLeft),
        [30],
      )

      pinned = new Date(notAfter.getTime() - 6 * dayMs)
      await bothRun()
      await bothRun()
      pinned = new Date(notAfter.getTime() - 12 * 60 * 60 * 1000)
      await bothRun()
      await first.close()
      first = await startAuthApp({}, { now, databaseUrl })
      await bothRun()
      pinned = new Date(notAfter.getTime() + 60 * 60 * 1000)
      await bothRun()

      const announced = await expiring()
      assert.deepEqual(
        announced.map((event) => event.type === 'sso.certificate.expiring' && event.daysLeft),
        [30, 7, 1],
        'each threshold once; nothing once expired',
      )
      const [notice] = announced
      assert.ok(notice?.type === 'sso.certificate.expiring')
      assert.deepEqual(new Set(notice.notify), new Set([owner.email, admin.email]), 'owners and admins, not members')
      assert.equal(notice.notAfter, notAfter.toISOString())
      assert.equal(notice.fingerprint, saved.json().connection.idp.certificates[0].fingerprintSha256)
    } finally {
      await first.close()
      await second.close()
    }
  })
})
