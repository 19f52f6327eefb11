import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  createWorkspace,
  devIdp,
  devIdpWithCertificateEnding,
  invitationAccepted,
  startIdpMetadataServer,
  strongPassword,
  workspaceWithSso,
} from '@gatehouse/auth/test/harness.ts'
import { uniqueIp } from '@gatehouse/testing'
import { type AuthServer, type InvitationTestApp, type SmtpSink, signUp, startSetup } from './harness.ts'

describe("owners hear of every change to who their workspace's IdP is", () => {
  let auth: AuthServer
  let sink: SmtpSink
  let invitation: InvitationTestApp
  let close: () => Promise<void>
  before(async () => {
    ;({ auth, sink, invitation, close } = await startSetup({ isolated: true }))
  })
  after(() => close())

  it("mails the owner when an admin (with a fresh password) re-points the workspace's IdP, naming the certificate", async () => {
    assert.ok(invitation)
    const { owner, workspace, idp } = await workspaceWithSso(auth.app)
    const admin = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    const fresh = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/reauthenticate',
      headers: { cookie: admin.cookie },
      remoteAddress: uniqueIp(),
      payload: { password: strongPassword },
    })
    assert.equal(fresh.statusCode, 204)
    const changed = await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers: { cookie: admin.cookie },
      payload: { ssoUrl: idp.loginUrl, entityId: `${idp.entityId}/elsewhere`, certificate: idp.certificatePem },
    })
    assert.equal(changed.statusCode, 200, changed.body)
    const fingerprint = changed.json().connection.idp.certificates[0].fingerprintSha256 as string

    const notice = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(owner.email) && /SSO settings/.test(mail.mail.subject ?? ''),
      15_000,
    )
    assert.match(String(notice.mail.subject), /SSO settings of .* changed/)
    assert.ok(notice.mail.text?.includes(fingerprint), 'the new certificate is named')
    assert.ok(notice.mail.text?.includes(`/workspaces/${workspace.id}/sso`))
    // (The admin gets other mail, such as the proof of their address at sign-up, but no change notice.)
    const noticeToAdmin = sink.received.some(
      (mail) => mail.envelopeTo.includes(admin.email) && /SSO settings of/.test(String(mail.mail.subject)),
    )
    assert.ok(!noticeToAdmin, 'only owners are told')
  })

  it("mails the owners what the metadata URL's refresh applied, and once when it cannot be read", async () => {
    const metadata = await startIdpMetadataServer()
    try {
      const idp = await devIdp()
      const owner = await signUp(auth.app)
      const workspace = await createWorkspace(auth.app, owner.cookie)
      const headers = { cookie: owner.cookie }
      const url = `/v1/workspaces/${workspace.id}/sso`
      await auth.app.inject({ method: 'POST', url, headers })
      metadata.publish(idp, [idp])
      const saved = await auth.app.inject({
        method: 'PUT',
        url: `${url}/idp`,
        headers,
        payload: { metadataUrl: metadata.url },
      })
      assert.equal(saved.statusCode, 200, saved.body)
      const refresh = () => auth.app.inject({ method: 'POST', url: `${url}/idp/metadata/refresh`, headers })

      const renewed = await devIdpWithCertificateEnding(new Date(Date.now() + 3 * 365 * 24 * 60 * 60 * 1000))
      metadata.publish(idp, [idp, renewed])
      const added = (await refresh()).json().refresh.fingerprints[0] as string
      const change = await sink.waitFor(
        (mail) => mail.envelopeTo.includes(owner.email) && Boolean(mail.mail.text?.includes(added)),
        15_000,
      )
      assert.match(
        String(change.mail.text),
        /re-reading the identity provider's metadata URL, added a signing certificate/,
      )

      metadata.fail(503)
      assert.equal((await refresh()).json().refresh.outcome, 'unreadable')
      assert.equal((await refresh()).json().refresh.outcome, 'unreadable')
      const problem = await sink.waitFor(
        (mail) => mail.envelopeTo.includes(owner.email) && String(mail.mail.subject).includes('cannot be read'),
        15_000,
      )
      assert.ok(problem.mail.text?.includes(metadata.url))
      assert.ok(problem.mail.text?.includes('HTTP 503'))
    } finally {
      await metadata.close()
    }
  })

  it('mails the owner who made a setup link when its holder opens it and saves the IdP', async () => {
    const { owner, workspace, idp } = await workspaceWithSso(auth.app)
    const created = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/setup-links`,
      headers: { cookie: owner.cookie },
    })
    const token = new URL(created.json().setupLink.url).hash.slice('#token='.length)
    const holder = { 'x-setup-token': token }
    const remoteAddress = uniqueIp()
    assert.equal(
      (await auth.app.inject({ method: 'GET', url: '/v1/setup', headers: holder, remoteAddress })).statusCode,
      200,
    )
    const opened = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(owner.email) && /setup link/.test(String(mail.mail.subject)),
      15_000,
    )
    assert.match(
      opened.mail.text ?? '',
      new RegExp(`opened the SSO setup of .* \\(from ${remoteAddress.replace(/[.:]/g, '\\$&')}\\)`),
    )
    const saved = await auth.app.inject({
      method: 'PUT',
      url: '/v1/setup/sso/idp',
      headers: holder,
      remoteAddress,
      payload: { ssoUrl: idp.loginUrl, entityId: `${idp.entityId}/setup`, certificate: idp.certificatePem },
    })
    assert.equal(saved.statusCode, 200, saved.body)
    const changed = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(owner.email) && /holder of a setup link/.test(mail.mail.text ?? ''),
      15_000,
    )
    assert.match(changed.mail.text ?? '', /^The holder of a setup link an owner created set which identity provider/)
  })
})
