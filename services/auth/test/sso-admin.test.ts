import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { hostileMetadata } from '@gatehouse/saml/hostile-metadata'
import { eq } from 'drizzle-orm'
import { auditLog } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  createWorkspace,
  devIdp,
  invitationAccepted,
  publicUrl,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

const fixtures = new URL('../../../test/fixtures/entra/', import.meta.url)

describe('SSO connection admin API', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  it('turns SSO on and shows the Identifier and Reply URL to paste into Entra', async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const created = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(created.statusCode, 201)
    const { connection } = created.json()
    assert.equal(connection.status, 'awaiting_idp')
    assert.equal(connection.idp, null)
    assert.equal(connection.sp.entityId, `${publicUrl}/sso/saml/${connection.id}`)
    assert.equal(connection.sp.acsUrl, `${publicUrl}/sso/saml/${connection.id}/acs`)

    const again = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(again.statusCode, 409)
    assert.equal(again.json().error, 'sso_exists')
  })

  it("saves Entra's three values and shows the certificate's fingerprint and expiry, audited", async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app)
    assert.equal(connection.status, 'active')
    assert.equal(connection.idp?.entityId, idp.entityId)
    assert.equal(connection.idp?.ssoUrl, idp.loginUrl)
    assert.equal(connection.idp?.certificates.length, 1)
    assert.match(connection.idp?.certificates[0]?.fingerprintSha256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    assert.ok(!JSON.stringify(connection).includes('BEGIN CERTIFICATE'), 'the PEM is never sent back')

    const audit = await auth.db.select().from(auditLog).where(eq(auditLog.workspaceId, workspace.id))
    assert.deepEqual(audit.map((row) => row.action).sort(), ['sso.created', 'sso.idp_configured'])
    assert.ok(audit.every((row) => row.actorUserId === owner.user.id))
    assert.ok(!JSON.stringify(audit).includes(idp.certificateBase64.slice(0, 40)), 'no certificate in the audit log')
  })

  it('refuses a bad certificate or URL with the field that is wrong, and keeps what was saved', async () => {
    const { owner, workspace, idp } = await workspaceWithSso(auth.app)
    const cases = [
      {
        body: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: 'not a certificate' },
        code: 'invalid_certificate',
        field: 'certificate',
      },
      {
        body: { ssoUrl: 'http://login.example.com/saml2', entityId: idp.entityId, certificate: idp.certificatePem },
        code: 'invalid_url',
        field: 'ssoUrl',
      },
      { body: { metadataXml: '<nope/>' }, code: 'invalid_metadata', field: 'metadataXml' },
    ]
    for (const { body, code, field } of cases) {
      const response = await auth.app.inject({
        method: 'PUT',
        url: `/v1/workspaces/${workspace.id}/sso/idp`,
        headers: { cookie: owner.cookie },
        payload: body,
      })
      assert.equal(response.statusCode, 400, response.body)
      assert.equal(response.json().error, code)
      assert.ok(response.json().fields[field], `${code} names ${field}: ${response.body}`)
    }
    const current = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(current.json().connection.idp.entityId, idp.entityId)
  })

  it("says what is wrong with the IdP's values in Entra's portal terms for Entra, in SAML terms for another IdP", async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const bad = [
      { ssoUrl: '', entityId: '', certificate: 'not a certificate' },
      { ssoUrl: 'https://idp.example/sso', entityId: 'https://idp.example', certificate: 'not a certificate' },
      { metadataXml: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>' },
    ]
    const messagesFor = async (idpKind: string) => {
      const messages: string[] = []
      for (const body of bad) {
        const response = await auth.app.inject({
          method: 'PUT',
          url: `/v1/workspaces/${workspace.id}/sso/idp`,
          headers: { cookie: owner.cookie },
          payload: { ...body, idpKind },
        })
        assert.equal(response.statusCode, 400, response.body)
        messages.push(response.json().message, ...Object.values<string>(response.json().fields))
      }
      return messages
    }
    const entra = await messagesFor('entra')
    assert.ok(
      entra.some((message) => /Entra/.test(message)),
      entra.join(' | '),
    )
    const okta = await messagesFor('okta')
    for (const message of okta) assert.doesNotMatch(message, /Entra|Login URL/)
    assert.ok(
      okta.some((message) => /IdP Entity ID/.test(message)),
      okta.join(' | '),
    )
    assert.ok(
      okta.some((message) => /signing certificate/.test(message)),
      okta.join(' | '),
    )
  })

  it('refuses a plain-http Login URL, even on loopback, when the product runs on https', async () => {
    const deployed = await startAuthApp({ PUBLIC_URL: 'https://app.example.test' })
    try {
      const idp = await devIdp()
      const owner = await signUp(deployed.app)
      const workspace = await createWorkspace(deployed.app, owner.cookie)
      const save = (ssoUrl: string) =>
        deployed.app.inject({
          method: 'PUT',
          url: `/v1/workspaces/${workspace.id}/sso/idp`,
          headers: { cookie: owner.cookie },
          payload: { ssoUrl, entityId: idp.entityId, certificate: idp.certificatePem },
        })
      const turnedOn = await deployed.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${workspace.id}/sso`,
        headers: { cookie: owner.cookie },
      })
      assert.equal(turnedOn.statusCode, 201)
      const refused = await save('http://localhost:3003/tenant/saml2')
      assert.equal(refused.statusCode, 400)
      assert.equal(refused.json().error, 'invalid_url')
      assert.equal(refused.json().fields.ssoUrl, 'The Login URL must use https.')
      assert.equal((await save('https://login.example.test/tenant/saml2')).statusCode, 200)
    } finally {
      await deployed.close()
    }
  })

  it('answers the session, members and SSO settings with Cache-Control: no-store', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    for (const url of [
      '/v1/auth/session',
      `/v1/workspaces/${workspace.id}/members`,
      `/v1/workspaces/${workspace.id}/sso`,
    ]) {
      const response = await auth.app.inject({ method: 'GET', url, headers: { cookie: owner.cookie } })
      assert.equal(response.statusCode, 200, url)
      assert.equal(response.headers['cache-control'], 'no-store', url)
    }
  })

  it('refuses hostile metadata uploads with invalid_metadata, before they can stall the parser', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const entra = readFileSync(new URL('ssoready-2023.federation-metadata.xml', fixtures), 'utf8')
    for (const { name, metadataXml } of hostileMetadata(entra)) {
      const response = await auth.app.inject({
        method: 'PUT',
        url: `/v1/workspaces/${workspace.id}/sso/idp`,
        headers: { cookie: owner.cookie },
        payload: { metadataXml },
      })
      // Past the route's body limit (twice the metadata size limit) the body is not even read.
      const expected = metadataXml.length > 512 * 1024 ? [413, 'payload_too_large'] : [400, 'invalid_metadata']
      assert.deepEqual(
        [response.statusCode, response.json().error],
        expected,
        `${name}: ${response.body.slice(0, 200)}`,
      )
    }
  })

  it('limits SSO configuration changes per workspace, however many of its admins make them', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const admin = await signUp(auth.app)
    const granted = await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
    )
    assert.equal(granted, 'granted')
    const change = (cookie: string) =>
      auth.app.inject({
        method: 'PATCH',
        url: `/v1/workspaces/${workspace.id}/sso`,
        headers: { cookie },
        payload: { allowIdpInitiated: false },
      })
    // workspaceWithSso made two changes; the owner and the admin share the other 58, each under
    // their own account's 60.
    for (let count = 2; count < 60; count++) {
      const response = await change(count % 2 === 0 ? owner.cookie : admin.cookie)
      assert.equal(response.statusCode, 200, response.body)
    }
    for (const cookie of [owner.cookie, admin.cookie]) {
      const refused = await change(cookie)
      assert.equal(refused.statusCode, 429, refused.body)
      assert.equal(refused.json().error, 'rate_limited')
      assert.ok(Number(refused.headers['retry-after']) > 0)
    }
  })

  it('limits SSO configuration changes per account, leaving other accounts alone', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const change = (cookie: string, workspaceId: string) =>
      auth.app.inject({
        method: 'PATCH',
        url: `/v1/workspaces/${workspaceId}/sso`,
        headers: { cookie },
        payload: { allowIdpInitiated: false },
      })
    // workspaceWithSso made two changes (turn on, IdP values).
    for (let count = 2; count < 60; count++) assert.equal((await change(owner.cookie, workspace.id)).statusCode, 200)
    const refused = await change(owner.cookie, workspace.id)
    assert.equal(refused.statusCode, 429)
    assert.equal(refused.json().error, 'rate_limited')
    const secondWorkspace = await createWorkspace(auth.app, owner.cookie)
    const turnOn = await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${secondWorkspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(turnOn.statusCode, 429, 'the same account, in another of its workspaces')
    const other = await workspaceWithSso(auth.app)
    assert.equal((await change(other.owner.cookie, other.workspace.id)).statusCode, 200, 'another account')
  })

  it("accepts Entra's federation metadata XML with every signing certificate", async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    await auth.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    const metadataXml = readFileSync(new URL('nhs-2015-two-certs.federation-metadata.xml', fixtures), 'utf8')
    const response = await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers: { cookie: owner.cookie },
      payload: { metadataXml },
    })
    // Both of that tenant's certificates expired long ago: refused, naming the expiry.
    assert.equal(response.statusCode, 400, response.body)
    assert.equal(response.json().error, 'invalid_certificate')

    const idp = await devIdp()
    const current = await auth.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers: { cookie: owner.cookie },
      payload: { metadataXml: idp.federationMetadataXml() },
    })
    assert.equal(current.statusCode, 200, current.body)
    assert.equal(current.json().connection.idp.entityId, idp.entityId)
  })

  it('records which IdP the connection is set up with: Entra by default, changed by PATCH or with the IdP values', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app)
    assert.equal(connection.idpKind, 'entra')
    const url = `/v1/workspaces/${workspace.id}/sso`
    const patch = (payload: object) =>
      auth.app.inject({ method: 'PATCH', url, headers: { cookie: owner.cookie }, payload })
    const patched = await patch({ idpKind: 'okta' })
    assert.equal(patched.statusCode, 200, patched.body)
    assert.equal(patched.json().connection.idpKind, 'okta')
    const put = await auth.app.inject({
      method: 'PUT',
      url: `${url}/idp`,
      headers: { cookie: owner.cookie },
      payload: { metadataXml: idp.federationMetadataXml(), idpKind: 'google' },
    })
    assert.equal(put.statusCode, 200, put.body)
    assert.equal(put.json().connection.idpKind, 'google')
    for (const idpKind of ['adfs', '', 'ENTRA', 3, null]) {
      const refused = await patch({ idpKind })
      assert.equal(refused.statusCode, 400, `${JSON.stringify(idpKind)}: ${refused.body}`)
    }
    const read = await auth.app.inject({ method: 'GET', url, headers: { cookie: owner.cookie } })
    assert.equal(read.json().connection.idpKind, 'google')
  })

  it('toggles and deletes, and keeps every other workspace out', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const other = await workspaceWithSso(auth.app)
    const member = await signUp(auth.app)

    const patched = await auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
      payload: { enabled: false, allowIdpInitiated: true },
    })
    assert.equal(patched.statusCode, 200)
    assert.equal(patched.json().connection.status, 'disabled')
    assert.equal(patched.json().connection.allowIdpInitiated, true)

    // The other workspace's owner, and a stranger, can neither read nor change this connection.
    for (const cookie of [other.owner.cookie, member.cookie]) {
      for (const request of [
        { method: 'GET' as const, url: `/v1/workspaces/${workspace.id}/sso` },
        { method: 'PATCH' as const, url: `/v1/workspaces/${workspace.id}/sso`, payload: { enabled: true } },
        { method: 'PUT' as const, url: `/v1/workspaces/${workspace.id}/sso/idp`, payload: { metadataXml: '<x/>' } },
        { method: 'DELETE' as const, url: `/v1/workspaces/${workspace.id}/sso` },
      ]) {
        const response = await auth.app.inject({ ...request, headers: { cookie } })
        assert.equal(response.statusCode, 403, `${request.method} ${request.url}`)
        assert.equal(response.json().connection, undefined)
      }
    }

    const deleted = await auth.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(deleted.statusCode, 204)
    const gone = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(gone.statusCode, 404)
    assert.equal(gone.json().error, 'sso_not_configured')
  })
})
