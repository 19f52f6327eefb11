import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type AuthTestApp,
  invitationAccepted,
  postAndConfirm,
  postToAcs,
  sessionCookieOf,
  signUp,
  startAuthApp,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

// The hand-written statements (the SSO login, the invitation grant, a session with its event) run
// on the embedded database too: `pnpm dev` and a first-time user's whole walkthrough use it.
describe('on the embedded database (PGlite)', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp({}, { embedded: true })
  })
  after(() => auth.close())

  it('signs in with a password and through SSO, and grants SSO from an accepted invitation', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const login = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: owner.email, password: strongPassword },
    })
    assert.equal(login.statusCode, 200, login.body)

    const invitee = await signUp(auth.app)
    const respondFor = (email: string) => ({
      SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email, firstName: 'Ada', lastName: 'Lovelace' } }),
    })
    const refused = await postToAcs(auth.app, connection.id, respondFor(invitee.email))
    assert.equal(refused.statusCode, 403, refused.body)

    const accepted = invitationAccepted(workspace.id, { userId: invitee.user.id, email: invitee.email })
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(accepted), 'granted')
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(accepted), 'duplicate')

    const signedIn = await postAndConfirm(auth.app, connection.id, respondFor(invitee.email))
    assert.equal(signedIn.statusCode, 302, signedIn.body)
    const members = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/members`,
      headers: { cookie: sessionCookieOf(signedIn) ?? '' },
    })
    assert.equal(members.statusCode, 200)
    const signedInMember = members.json().members.find((member: { email: string }) => member.email === invitee.email)
    assert.deepEqual(
      {
        email: signedInMember.email,
        firstName: signedInMember.firstName,
        lastName: signedInMember.lastName,
      },
      { email: invitee.email, firstName: 'Ada', lastName: 'Lovelace' },
    )
  })
})
