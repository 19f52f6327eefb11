import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { hostileRequests, type Injectable, serverErrorsFor, uniqueEmail } from '@gatehouse/testing'
import {
  type AuthStandIn,
  type InvitationTestApp,
  inviteAndReceive,
  ownerWithWorkspace,
  type SmtpSink,
  startSetup,
} from './harness.ts'

// Every route the invitation service documents, each field, path and query parameter replaced in
// turn by values no honest client sends, and bodies that are not JSON objects, from a signed-in
// workspace owner holding a real pending invitation: refusals are fine, a 5xx is not.
describe('every invitation route under hostile input', () => {
  let auth: AuthStandIn
  let sink: SmtpSink
  let invitation: InvitationTestApp
  let close: () => Promise<void>
  before(async () => {
    ;({ auth, sink, invitation, close } = await startSetup())
  })
  after(() => close())

  it('answers each hostile request without a 5xx', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const pending = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const spec = (invitation.app as unknown as { swagger(): Parameters<typeof hostileRequests>[0] }).swagger()
    const requests = hostileRequests(spec, {
      workspaceId: workspace.id,
      invitationId: pending.invitation.id,
      email: () => uniqueEmail('hostile'),
      role: 'member',
      token: pending.token,
    })
    const failures = await serverErrorsFor(invitation.app as unknown as Injectable, requests, owner.cookie)
    assert.deepEqual(failures, [])
    assert.ok(requests.length > 150, `${requests.length} requests`)
  })
})
