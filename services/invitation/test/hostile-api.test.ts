import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { hostileRequests, uniqueEmail, uniqueIp } from '@gatehouse/testing'
import {
  type AuthServer,
  type InvitationTestApp,
  inviteAndReceive,
  ownerWithWorkspace,
  type SmtpSink,
  startAuthServer,
  startInvitationApp,
  startSmtpSink,
} from './harness.ts'

// Every route the invitation service documents, each field, path and query parameter replaced in
// turn by values no honest client sends, and bodies that are not JSON objects, from a signed-in
// workspace owner holding a real pending invitation: refusals are fine, a 5xx is not.
describe('every invitation route under hostile input', () => {
  let auth: AuthServer
  let sink: SmtpSink
  let invitation: InvitationTestApp
  before(async () => {
    ;[auth, sink] = await Promise.all([startAuthServer(), startSmtpSink()])
    invitation = await startInvitationApp({ authUrl: auth.url, smtpUrl: sink.url })
  })
  after(async () => {
    await invitation.close()
    await auth.close()
    await sink.close()
  })

  it('answers each hostile request without a 5xx', async () => {
    const { owner, workspace } = await ownerWithWorkspace(auth)
    const pending = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const spec = (invitation.app as unknown as { swagger(): Parameters<typeof hostileRequests>[0] }).swagger()
    const requests = hostileRequests(spec, {
      workspaceId: workspace.id,
      invitationId: pending.invitation.id,
      email: () => uniqueEmail('hostile'),
      role: 'member',
      token: pending.token,
    })
    const failures: string[] = []
    for (const request of requests) {
      const response = await invitation.app.inject({
        ...request,
        method: request.method as 'GET',
        headers: { ...request.headers, cookie: owner.cookie },
        remoteAddress: uniqueIp(),
      })
      if (response.statusCode >= 500) {
        failures.push(
          `${request.method} ${request.url.slice(0, 120)} ${request.payload?.slice(0, 120)} -> ${response.statusCode} ${response.body.slice(0, 200)}`,
        )
      }
    }
    assert.deepEqual(failures, [])
    assert.ok(requests.length > 150, `${requests.length} requests`)
  })
})
