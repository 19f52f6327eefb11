import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type InvitationTestApp, startInvitationApp } from './harness.ts'

describe('what each invitation route needs', () => {
  let invitation: InvitationTestApp
  before(async () => {
    // Nothing here reaches auth: the declarations are read, not exercised.
    invitation = await startInvitationApp({ authUrl: 'http://127.0.0.1:1' })
  })
  after(() => invitation.close())

  it('declares what every route needs, and nothing is left undeclared', () => {
    const declared = Object.fromEntries(
      invitation.app.declaredRoutes.map((route) => [`${route.method} ${route.url}`, route.access]),
    )
    assert.deepEqual(declared, {
      'POST /v1/invitations': { workspace: 'admin' },
      'GET /v1/invitations': { workspace: 'admin' },
      'POST /v1/invitations/:invitationId/resend': { workspace: 'admin' },
      'DELETE /v1/invitations/:invitationId': { workspace: 'admin' },
      'POST /v1/invitations/lookup': 'public',
      'POST /v1/invitations/accept': 'password',
      'GET /v1/invitations/mine': 'password',
      'POST /v1/invitations/:invitationId/accept': 'password',
      'POST /internal/invitations/proof': 'internal',
    })
  })

  it("compiles every route's request and response schemas (which the app compiles on first use)", () => {
    assert.deepEqual(invitation.app.routeSchemaProblems(), [])
  })
})
