import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { SamlAttribute } from '@gatehouse/dev-idp'
import { eq } from 'drizzle-orm'
import { auditLog } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  invitationAccepted,
  postAndConfirm,
  postToAcs,
  sessionCookieOf,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

const URI_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri'
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'

describe('per-connection SAML options, through the ACS', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const patch = (workspaceId: string, cookie: string, payload: Record<string, unknown>) =>
    auth.app.inject({ method: 'PATCH', url: `/v1/workspaces/${workspaceId}/sso`, headers: { cookie }, payload })

  const nameForms: Array<{ form: string; attributes: SamlAttribute[] }> = [
    {
      form: 'the X.500/LDAP profile (urn:oid:2.5.4.42 / 2.5.4.4, NameFormat uri)',
      attributes: [
        { name: 'urn:oid:2.5.4.42', nameFormat: URI_FORMAT, friendlyName: 'givenName', values: ['Katherine'] },
        { name: 'urn:oid:2.5.4.4', nameFormat: URI_FORMAT, friendlyName: 'sn', values: ['Johnson'] },
      ],
    },
    {
      form: 'MACE-Dir names (urn:mace:dir:attribute-def:givenName / sn)',
      attributes: [
        { name: 'urn:mace:dir:attribute-def:givenName', values: ['Katherine'] },
        { name: 'urn:mace:dir:attribute-def:sn', values: ['Johnson'] },
      ],
    },
    {
      form: 'a FriendlyName only (givenName / surname)',
      attributes: [
        { name: 'urn:example:first', friendlyName: 'givenName', values: ['Katherine'] },
        { name: 'urn:example:last', friendlyName: 'surname', values: ['Johnson'] },
      ],
    },
  ]
  for (const { form, attributes } of nameForms) {
    it(`names sent under ${form} become the member's names in the workspace`, async () => {
      const { owner, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
      const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email: owner.email }, attributes })
      const acs = await postAndConfirm(auth.app, connection.id, { SAMLResponse: samlResponse })
      assert.equal(acs.statusCode, 302, acs.body)
      const members = await auth.app.inject({
        method: 'GET',
        url: `/v1/workspaces/${connection.workspaceId}/members`,
        headers: { cookie: sessionCookieOf(acs) ?? '' },
      })
      const [member] = members.json().members
      assert.deepEqual([member.email, member.firstName, member.lastName], [owner.email, 'Katherine', 'Johnson'])
    })
  }

  it('takes the email from the NameID by default and from an attribute once an admin turns that on', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    assert.equal(connection.emailFromAttribute, false)
    const admin = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    // Okta's and ADFS's default: a persistent, opaque NameID and the address in an attribute.
    const oktaLike = () =>
      idp.responseBase64({
        sp: connection.sp,
        user: { email: owner.email, nameId: 'a5c0ffee0123456789', nameIdFormat: PERSISTENT },
        attributes: [{ name: 'urn:oid:0.9.2342.19200300.100.1.3', nameFormat: URI_FORMAT, values: [owner.email] }],
      })

    const refused = await postToAcs(auth.app, connection.id, { SAMLResponse: oktaLike() })
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.json().reason, 'nameid_not_email')
    assert.equal(sessionCookieOf(refused), undefined)

    const turnedOn = await patch(workspace.id, admin.cookie, { emailFromAttribute: true })
    assert.equal(turnedOn.statusCode, 200, turnedOn.body)
    assert.equal(turnedOn.json().connection.emailFromAttribute, true)
    const accepted = await postAndConfirm(auth.app, connection.id, { SAMLResponse: oktaLike() })
    assert.equal(accepted.statusCode, 302, accepted.body)
    const session = await auth.app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: { cookie: sessionCookieOf(accepted) ?? '' },
    })
    assert.equal(session.json().user.email, owner.email)

    // The attribute must still hold an address: an opaque value never names an account.
    const notAnAddress = idp.responseBase64({
      sp: connection.sp,
      user: { email: owner.email, nameId: owner.email },
      attributes: [{ name: 'mail', values: ['a5c0ffee0123456789'] }],
    })
    const invalid = await postToAcs(auth.app, connection.id, { SAMLResponse: notAnAddress })
    assert.equal(invalid.statusCode, 400)
    assert.equal(invalid.json().reason, 'email_attribute_invalid')
  })

  it('refuses SHA-1 signatures until the owner allows them; an admin may not (403)', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    assert.equal(connection.allowSha1, false)
    const admin = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    const sha1Signed = () =>
      idp.responseBase64({ sp: connection.sp, user: { email: owner.email }, signatureAlgorithm: 'rsa-sha1' })

    const refused = await postToAcs(auth.app, connection.id, { SAMLResponse: sha1Signed() })
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.json().reason, 'weak_algorithm')

    const byAdmin = await patch(workspace.id, admin.cookie, { allowSha1: true })
    assert.equal(byAdmin.statusCode, 403)
    assert.equal(byAdmin.json().error, 'forbidden')
    const stillRefused = await postToAcs(auth.app, connection.id, { SAMLResponse: sha1Signed() })
    assert.equal(stillRefused.json().reason, 'weak_algorithm')

    const byOwner = await patch(workspace.id, owner.cookie, { allowSha1: true })
    assert.equal(byOwner.statusCode, 200, byOwner.body)
    assert.equal(byOwner.json().connection.allowSha1, true)
    const accepted = await postAndConfirm(auth.app, connection.id, { SAMLResponse: sha1Signed() })
    assert.equal(accepted.statusCode, 302, accepted.body)
    const audit = await auth.db.select().from(auditLog).where(eq(auditLog.workspaceId, workspace.id))
    assert.ok(audit.some((row) => row.action === 'sso.updated' && row.changes.allowSha1 === true))

    // Turning it off again tightens the check, which an admin may do.
    const offByAdmin = await patch(workspace.id, admin.cookie, { allowSha1: false })
    assert.equal(offByAdmin.statusCode, 200, offByAdmin.body)
    const refusedAgain = await postToAcs(auth.app, connection.id, { SAMLResponse: sha1Signed() })
    assert.equal(refusedAgain.json().reason, 'weak_algorithm')
  })
})
