import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type AuthTestApp, createWorkspace, invitationAccepted, signUp, startAuthApp } from './harness.ts'

describe('workspaces and memberships', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  it('makes the creator its owner, with SSO allowed', async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie, 'Acme Films')
    const session = await auth.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: owner.cookie } })
    assert.deepEqual(session.json().memberships, [
      {
        workspaceId: workspace.id,
        workspaceName: 'Acme Films',
        role: 'owner',
        ssoAllowed: true,
        ssoRequired: false,
        reachable: true,
      },
    ])
    const read = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(read.statusCode, 200)
    assert.equal(read.json().workspace.name, 'Acme Films')
  })

  it('shows a workspace to members only', async () => {
    const owner = await signUp(auth.app)
    const stranger = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const forbidden = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}`,
      headers: { cookie: stranger.cookie },
    })
    assert.equal(forbidden.statusCode, 403)
    assert.equal(forbidden.json().error, 'forbidden')
    assert.equal(forbidden.json().workspace, undefined)
    const missing = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${randomUUID()}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(missing.statusCode, 404)
    const anonymous = await auth.app.inject({ method: 'POST', url: '/v1/workspaces', payload: { name: 'x' } })
    assert.equal(anonymous.statusCode, 401)
  })

  it('grants a membership from an accepted invitation once, however often the event arrives', async () => {
    const owner = await signUp(auth.app)
    const invitee = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const event = invitationAccepted(workspace.id, { userId: invitee.user.id, email: invitee.email })
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(event), 'granted')
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(event), 'duplicate')

    // Members see who is in the workspace: the owner first, then the invitee, each once.
    const members = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/members`,
      headers: { cookie: invitee.cookie },
    })
    assert.equal(members.statusCode, 200)
    assert.deepEqual(
      members
        .json()
        .members.map((member: { email: string; role: string; source: string; ssoAllowed: boolean }) => [
          member.email,
          member.role,
          member.source,
          member.ssoAllowed,
        ]),
      [
        [owner.email, 'owner', 'creator', true],
        [invitee.email, 'member', 'invitation', true],
      ],
    )
    const stranger = await signUp(auth.app)
    const hidden = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/members`,
      headers: { cookie: stranger.cookie },
    })
    assert.equal(hidden.statusCode, 403)
    assert.equal(hidden.json().members, undefined)
    const session = await auth.app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: { cookie: invitee.cookie },
    })
    assert.deepEqual(session.json().memberships, [
      {
        workspaceId: workspace.id,
        workspaceName: workspace.name,
        role: 'member',
        ssoAllowed: true,
        ssoRequired: false,
        reachable: true,
      },
    ])
  })

  it('grants nothing when the event names another account than the email holder', async () => {
    const owner = await signUp(auth.app)
    const invitee = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const event = invitationAccepted(workspace.id, { userId: owner.user.id, email: invitee.email }, 'admin')
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(event), 'no_account')
    const session = await auth.app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: { cookie: invitee.cookie },
    })
    assert.deepEqual(session.json().memberships, [])
  })
})
