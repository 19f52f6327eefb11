import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { eq } from 'drizzle-orm'
import { sessions } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  type ConnectionView,
  invitationAccepted,
  postAndConfirm,
  sessionCookieOf,
  signUp,
  startAuthApp,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

describe('IdP certificate rollover with overlap', () => {
  // Two replicas on one database: changes are made on one, sign-ins go through the other.
  let admin: AuthTestApp
  let replica: AuthTestApp
  before(async () => {
    admin = await startAuthApp()
    replica = await startAuthApp()
  })
  after(async () => {
    await admin.close()
    await replica.close()
  })
  const addCertificate = (workspaceId: string, cookie: string, certificate: string) =>
    admin.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspaceId}/sso/idp/certificates`,
      headers: { cookie },
      payload: { certificate },
    })

  it('accepts both certificates while they overlap, and only the new one once the old is removed', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(admin.app, { allowIdpInitiated: true })
    const renewed = createDevIdp({ keys: await generateSigningKeys() })
    const signIn = (signer: typeof idp) =>
      postAndConfirm(replica.app, connection.id, {
        SAMLResponse: signer.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
      })
    // The replica caches the connection with the old certificate alone.
    assert.equal((await signIn(idp)).statusCode, 302)
    assert.equal((await signIn(renewed)).json().reason, 'signature_invalid')

    const added = await addCertificate(workspace.id, owner.cookie, renewed.certificatePem)
    assert.equal(added.statusCode, 201, added.body)
    const both = (added.json().connection as ConnectionView).idp?.certificates ?? []
    assert.equal(both.length, 2)
    const [oldCertificate, newCertificate] = both
    assert.ok(oldCertificate && newCertificate)
    assert.equal(oldCertificate.fingerprintSha256, connection.idp?.certificates[0]?.fingerprintSha256)
    assert.equal((await signIn(renewed)).statusCode, 302)
    const signedByOld = await signIn(idp)
    assert.equal(signedByOld.statusCode, 302)
    const oldSession = sessionCookieOf(signedByOld)
    assert.ok(oldSession)

    // Colons are optional in the path: a fingerprint as some IdPs show a thumbprint.
    const removed = await admin.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/sso/idp/certificates/${oldCertificate.fingerprintSha256.replaceAll(':', '').toLowerCase()}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(removed.statusCode, 200, removed.body)
    assert.deepEqual(
      (removed.json().connection as ConnectionView).idp?.certificates.map(
        (certificate) => certificate.fingerprintSha256,
      ),
      [newCertificate.fingerprintSha256],
    )
    // A removed certificate may be a leaked one: the sessions it signed in end with it.
    const afterRemoval = await replica.app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: { cookie: oldSession },
    })
    assert.equal(afterRemoval.statusCode, 401, afterRemoval.body)
    // The replica still holds the two-certificate copy: the login's statement sees the new version.
    const refused = await signIn(idp)
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.json().reason, 'signature_invalid')
    assert.equal((await signIn(renewed)).statusCode, 302)

    const last = await admin.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/sso/idp/certificates/${newCertificate.fingerprintSha256}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(last.statusCode, 409)
    assert.equal(last.json().error, 'last_certificate')
  })

  it('ends, on removal, only the sessions the removed certificate signed in', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(admin.app, { allowIdpInitiated: true })
    const renewed = createDevIdp({ keys: await generateSigningKeys() })
    const added = await addCertificate(workspace.id, owner.cookie, renewed.certificatePem)
    assert.equal(added.statusCode, 201, added.body)
    const ssoSession = async (signer: typeof idp) => {
      const member = await signUp(admin.app)
      await admin.app.workspaces.grantMembershipFromInvitation(
        invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
      )
      const signedIn = await postAndConfirm(replica.app, connection.id, {
        SAMLResponse: signer.responseBase64({ sp: connection.sp, user: { email: member.email } }),
      })
      assert.equal(signedIn.statusCode, 302, signedIn.body)
      const cookie = sessionCookieOf(signedIn)
      assert.ok(cookie)
      return { cookie, userId: member.user.id }
    }
    const signedByOld = (await ssoSession(idp)).cookie
    const signedByNew = (await ssoSession(renewed)).cookie
    // A session opened before sessions recorded their signer: which key signed it is unknown.
    const unrecorded = await ssoSession(renewed)
    await admin.db
      .update(sessions)
      .set({ signingCertificateFingerprint: null })
      .where(eq(sessions.userId, unrecorded.userId))
    const reaches = async (cookie: string) =>
      (await replica.app.inject({ url: `/v1/workspaces/${workspace.id}`, headers: { cookie } })).statusCode

    const oldFingerprint = connection.idp?.certificates[0]?.fingerprintSha256 ?? ''
    const removed = await admin.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/sso/idp/certificates/${oldFingerprint}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(removed.statusCode, 200, removed.body)
    // The end of a normal rollover: the old key's sessions end, the new key's keep working.
    assert.equal(await reaches(signedByOld), 401)
    assert.equal(await reaches(signedByNew), 200)
    assert.equal(await reaches(unrecorded.cookie), 401)
  })

  it('refuses a duplicate, a non-certificate, an unknown fingerprint, and a member', async () => {
    const { owner, workspace, idp } = await workspaceWithSso(admin.app)
    const add = (cookie: string, certificate: string) => addCertificate(workspace.id, cookie, certificate)
    const duplicate = await add(owner.cookie, idp.certificateBase64)
    assert.equal(duplicate.statusCode, 409)
    assert.equal(duplicate.json().error, 'certificate_exists')
    const garbage = await add(owner.cookie, 'not a certificate')
    assert.equal(garbage.statusCode, 400)
    assert.equal(garbage.json().error, 'invalid_certificate')
    assert.ok(garbage.json().fields.certificate)
    const unknown = await admin.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/sso/idp/certificates/${'AB'.repeat(32)}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(unknown.statusCode, 404)

    const member = await signUp(admin.app)
    await admin.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    assert.equal((await add(member.cookie, idp.certificatePem)).statusCode, 403)
    // Who the IdP trusts is the owner's call, or an admin's who has just re-entered their password.
    const renewed = createDevIdp({ keys: await generateSigningKeys() })
    const workspaceAdmin = await signUp(admin.app)
    await admin.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: workspaceAdmin.user.id, email: workspaceAdmin.email }, 'admin'),
    )
    const stale = await add(workspaceAdmin.cookie, renewed.certificatePem)
    assert.equal(stale.statusCode, 403)
    assert.equal(stale.json().error, 'password_confirmation_required')
    const reauthenticated = await admin.app.inject({
      method: 'POST',
      url: '/v1/auth/reauthenticate',
      headers: { cookie: workspaceAdmin.cookie },
      payload: { password: strongPassword },
    })
    assert.equal(reauthenticated.statusCode, 204, reauthenticated.body)
    assert.equal((await add(workspaceAdmin.cookie, renewed.certificatePem)).statusCode, 201)
  })
})
