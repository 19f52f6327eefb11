import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createEvent } from '@gatehouse/events'
import { uniqueEmail, uniqueIp } from '@gatehouse/testing'
import { type InvitationTestApp, publishAuthEvents, type SmtpSink, startSetup } from './harness.ts'

// Auth decides which changes to announce and to whom (its tests: idp-changes, setup-links,
// metadata refresh); here, each announcement it makes on its stream reaches the owners it names.
describe("owners hear of every change to who their workspace's IdP is", () => {
  let sink: SmtpSink
  let invitation: InvitationTestApp
  let close: () => Promise<void>
  before(async () => {
    ;({ sink, invitation, close } = await startSetup())
  })
  after(() => close())

  const workspace = () => ({ workspaceId: randomUUID(), workspaceName: 'Acme', connectionId: randomUUID() })
  const mailTo = (recipient: string, matches: (subject: string, text: string) => boolean) =>
    sink.waitFor(
      (mail) => mail.envelopeTo.includes(recipient) && matches(String(mail.mail.subject), mail.mail.text ?? ''),
      15_000,
    )

  it("mails the owner when an admin (with a fresh password) re-points the workspace's IdP, naming the certificate", async () => {
    assert.ok(invitation)
    const owner = uniqueEmail('owner')
    const changed = workspace()
    const fingerprint = 'AB:'.repeat(31).concat('CD')
    await publishAuthEvents([
      createEvent('sso.connection.changed', {
        ...changed,
        what: 'idp_configured',
        by: randomUUID(),
        actingSession: { method: 'password' },
        fingerprints: [fingerprint],
        notify: [owner],
      }),
    ])
    const notice = await mailTo(owner, (subject) => /SSO settings/.test(subject))
    assert.match(String(notice.mail.subject), /SSO settings of .* changed/)
    assert.ok(notice.mail.text?.includes(fingerprint), 'the new certificate is named')
    assert.ok(notice.mail.text?.includes(`/workspaces/${changed.workspaceId}/sso`))
  })

  it("mails the owners what the metadata URL's refresh applied, and when it cannot be read", async () => {
    const owner = uniqueEmail('owner')
    const refreshed = workspace()
    const added = 'EF:'.repeat(31).concat('01')
    const metadataUrl = 'http://127.0.0.1:1/federationmetadata/2007-06/federationmetadata.xml'
    await publishAuthEvents([
      createEvent('sso.connection.changed', {
        ...refreshed,
        what: 'certificate_added',
        via: 'metadata_refresh',
        fingerprints: [added],
        notify: [owner],
      }),
      createEvent('sso.metadata.problem', {
        ...refreshed,
        kind: 'unreadable',
        reason: 'http_status',
        message: 'The metadata URL answered HTTP 503.',
        metadataUrl,
        notify: [owner],
      }),
    ])
    const change = await mailTo(owner, (_subject, text) => text.includes(added))
    assert.match(
      String(change.mail.text),
      /re-reading the identity provider's metadata URL, added a signing certificate/,
    )
    const problem = await mailTo(owner, (subject) => subject.includes('cannot be read'))
    assert.ok(problem.mail.text?.includes(metadataUrl))
    assert.ok(problem.mail.text?.includes('HTTP 503'))
  })

  it('mails the owner who made a setup link when its holder opens it and saves the IdP', async () => {
    const owner = uniqueEmail('owner')
    const { workspaceId, workspaceName, connectionId } = workspace()
    const remoteAddress = uniqueIp()
    await publishAuthEvents([
      createEvent('sso.setup_link.used', {
        workspaceId,
        workspaceName,
        setupLinkId: randomUUID(),
        what: 'opened',
        ip: remoteAddress,
        notify: [owner],
      }),
      createEvent('sso.connection.changed', {
        workspaceId,
        workspaceName,
        connectionId,
        what: 'idp_configured',
        actingSession: { method: 'setup_link' },
        notify: [owner],
      }),
    ])
    const opened = await mailTo(owner, (subject) => /setup link/.test(subject))
    assert.match(
      opened.mail.text ?? '',
      new RegExp(`opened the SSO setup of .* \\(from ${remoteAddress.replace(/[.:]/g, '\\$&')}\\)`),
    )
    const changed = await mailTo(owner, (_subject, text) => /holder of a setup link/.test(text))
    assert.match(changed.mail.text ?? '', /^The holder of a setup link an owner created set which identity provider/)
  })
})
