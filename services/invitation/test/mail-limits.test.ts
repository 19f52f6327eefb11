// Issue 12, "Email abuse": a fresh account made Gatehouse send 40 invitations, and 21 mails to one
// address by resend, under a workspace name of its choosing. Each invitation email now counts
// against daily limits per inviter, per workspace and per recipient (src/invitations/mail-limits.ts).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import { eq } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import { emails } from '../src/db/schema.ts'
import { invitationMailLimits } from '../src/invitations/mail-limits.ts'
import {
  type AuthStandIn,
  type InvitationTestApp,
  invite,
  ownerWithWorkspace,
  startAuth,
  startInvitationApp,
} from './harness.ts'

const day = 24 * 60 * 60

function assertRefused(response: LightMyRequestResponse, what: string) {
  assert.equal(response.statusCode, 429, `${what}: ${response.body}`)
  assert.equal(response.json().error, 'rate_limited', what)
  const retryAfter = Number(response.headers['retry-after'])
  assert.ok(retryAfter >= 1 && retryAfter <= day, `${what}: Retry-After ${response.headers['retry-after']}`)
}

describe('invitation email limits', () => {
  let auth: AuthStandIn
  let invitation: InvitationTestApp
  before(async () => {
    auth = await startAuth()
    // The deployment defaults: 100 emails a day per inviter, 200 per workspace (a tenth when young).
    invitation = await startInvitationApp({ authUrl: auth.url })
  })
  after(async () => {
    await invitation.close()
    await auth.close()
  })

  it('a fresh account is stopped at 10 invitations a day: of the 40 it tries, 30 get 429 with Retry-After', async () => {
    const phishingName = `Microsoft 365: verify your account at https://evil.example/verify ${uniqueSuffix()}`
    const { owner, workspace } = ownerWithWorkspace(auth, phishingName)
    const statuses: number[] = []
    for (let index = 0; index < 40; index++) {
      const response = await invite(invitation, owner.cookie, {
        workspaceId: workspace.id,
        email: uniqueEmail('target'),
      })
      statuses.push(response.statusCode)
      if (response.statusCode !== 201) assertRefused(response, `invitation ${index + 1}`)
    }
    assert.deepEqual(statuses, [...Array(10).fill(201), ...Array(30).fill(429)])
    const queued = await invitation.db.select().from(emails)
    assert.equal(queued.filter((email) => email.subject.includes(phishingName)).length, 10, 'emails written')
  })

  it('21 resends to one address send the invitation and 2 resends; the other 19 get 429 with Retry-After', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const invited = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email: uniqueEmail('target') })
    assert.equal(invited.statusCode, 201)
    const invitationId = invited.json().invitation.id as string
    const statuses: number[] = []
    for (let index = 0; index < 21; index++) {
      const response = await invitation.app.inject({
        method: 'POST',
        url: `/v1/invitations/${invitationId}/resend`,
        headers: { cookie: owner.cookie },
      })
      statuses.push(response.statusCode)
      if (response.statusCode !== 202) assertRefused(response, `resend ${index + 1}`)
    }
    assert.deepEqual(statuses, [202, 202, ...Array(19).fill(429)])
    const written = await invitation.db.select().from(emails).where(eq(emails.invitationId, invitationId))
    assert.equal(written.length, invitationMailLimits.perRecipientInWorkspace)
  })

  it('an account older than a day may send more than a fresh one', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    auth.setCreatedAt(owner.user.id, new Date(Date.now() - 2 * day * 1000))
    for (let index = 0; index < 15; index++) {
      const response = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email: uniqueEmail('team') })
      assert.equal(response.statusCode, 201, `invitation ${index + 1}: ${response.body}`)
    }
  })

  it('one address receives at most 10 invitation emails a day from all workspaces together', async () => {
    const target = uniqueEmail('popular')
    const statuses: number[] = []
    for (let index = 0; index < invitationMailLimits.perRecipient + 1; index++) {
      const owner = auth.signUp()
      const workspace = auth.createWorkspace(owner)
      const response = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email: target })
      statuses.push(response.statusCode)
      if (response.statusCode !== 201) assertRefused(response, `workspace ${index + 1}`)
    }
    assert.deepEqual(statuses, [...Array(invitationMailLimits.perRecipient).fill(201), 429])
  })
})
