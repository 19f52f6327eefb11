import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createEvent } from '@gatehouse/events'
import { uniqueEmail } from '@gatehouse/testing'
import { type InvitationTestApp, publishAuthEvents, type SmtpSink, startSetup } from './harness.ts'

const dayMs = 24 * 60 * 60 * 1000

// Auth announces each threshold once, to the owners and admins (its certificate-expiry-notices
// test, with replicas and restarts); here, what it announces is mailed once to each of them.
describe('certificate expiry notices, 30, 7 and 1 days before the end', () => {
  let sink: SmtpSink
  let invitation: InvitationTestApp
  let close: () => Promise<void>
  before(async () => {
    ;({ sink, invitation, close } = await startSetup())
  })
  after(() => close())

  it('mails each owner and admin the notice of each threshold once', async () => {
    assert.ok(invitation)
    const [owner, admin] = [uniqueEmail('owner'), uniqueEmail('admin')]
    const workspaceId = randomUUID()
    const notAfter = new Date(Math.floor((Date.now() + 40 * dayMs) / 1000) * 1000)
    const notices = [30, 7, 1].map((daysLeft) =>
      createEvent('sso.certificate.expiring', {
        workspaceId,
        workspaceName: 'Expiring Co',
        connectionId: randomUUID(),
        fingerprint: 'AB:'.repeat(31).concat('CD'),
        notAfter: notAfter.toISOString(),
        daysLeft,
        notify: [owner, admin],
      }),
    )
    await publishAuthEvents(notices)

    for (const recipient of [owner, admin]) {
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
    assert.equal(mailsTo(owner).length, 3)
    assert.equal(mailsTo(admin).length, 3)
    assert.ok(mailsTo(owner)[0]?.mail.text?.includes(`/workspaces/${workspaceId}/sso`))
  })
})
