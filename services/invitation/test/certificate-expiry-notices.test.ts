import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { outbox } from '@gatehouse/auth/src/db/schema.ts'
import { devIdpWithCertificateEnding, invitationAccepted } from '@gatehouse/auth/test/harness.ts'
import type { GatehouseEvent } from '@gatehouse/events'
import { sql } from 'drizzle-orm'
import {
  type AuthServer,
  createWorkspace,
  type InvitationTestApp,
  type SmtpSink,
  signUp,
  startAuthReplica,
  startSetup,
} from './harness.ts'

const dayMs = 24 * 60 * 60 * 1000

describe('certificate expiry notices, 30, 7 and 1 days before the end', () => {
  let auth: AuthServer
  let sink: SmtpSink
  let invitation: InvitationTestApp
  let close: () => Promise<void>
  let databaseUrl: string | undefined
  before(async () => {
    ;({ auth, sink, invitation, close, databaseUrl } = await startSetup({ isolated: true }))
  })
  after(() => close())

  it('mails each owner and admin once per threshold, with two replicas running the scheduler and one restarting', async () => {
    assert.ok(invitation)
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
    let first = await startAuthReplica({ now, databaseUrl })
    const second = await startAuthReplica({ now, databaseUrl })
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
      first = await startAuthReplica({ now, databaseUrl })
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
      first = await startAuthReplica({ now, databaseUrl })
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

      // The invitation service mails each notice once to each of them.
      for (const recipient of [owner.email, admin.email]) {
        for (const days of ['30 days', '7 days', '1 day']) {
          await sink.waitFor(
            (mail) => mail.envelopeTo.includes(recipient) && String(mail.mail.subject).endsWith(`within ${days}`),
            15_000,
          )
        }
      }
      const mailsTo = (recipient: string) =>
        sink.received.filter(
          (mail) => mail.envelopeTo.includes(recipient) && String(mail.mail.subject).includes('SSO certificate'),
        )
      assert.equal(mailsTo(owner.email).length, 3)
      assert.equal(mailsTo(admin.email).length, 3)
      assert.equal(mailsTo(member.email).length, 0)
      assert.ok(mailsTo(owner.email)[0]?.mail.text?.includes(`/workspaces/${workspace.id}/sso`))
    } finally {
      await first.close()
      await second.close()
    }
  })
})
