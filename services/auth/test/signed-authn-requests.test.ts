import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { samlSchemaToolMissing, validateAgainstSamlSchema } from '@gatehouse/dev-idp'
import {
  lassoAcceptsAuthnRequest,
  lassoMissing,
  opensslMissing,
  skipUnlessInstalled,
  verifyRedirectSignature,
} from '@gatehouse/testing'
import { DOMParser } from '@xmldom/xmldom'
import { eq } from 'drizzle-orm'
import { loadConfig } from '../src/config.ts'
import { ssoConnections } from '../src/db/schema.ts'
import { createSpKeyVault } from '../src/sso/sp-keys.ts'
import {
  type AuthTestApp,
  type ConnectionView,
  devIdp,
  invitationAccepted,
  postAndConfirm,
  signUp,
  startAuthApp,
  startSpLogin,
  workspaceWithSso,
} from './harness.ts'

const mdNs = 'urn:oasis:names:tc:SAML:2.0:metadata'
const dsNs = 'http://www.w3.org/2000/09/xmldsig#'
const independentTools = {
  skip: skipUnlessInstalled(opensslMissing() ?? lassoMissing() ?? samlSchemaToolMissing()),
}

/** What the SP metadata route publishes: AuthnRequestsSigned and the signing certificates (base64). */
function readSpMetadata(xml: string) {
  const document = new DOMParser().parseFromString(xml, 'text/xml')
  const descriptor = document.getElementsByTagNameNS(mdNs, 'SPSSODescriptor')[0]
  const certificates = Array.from(document.getElementsByTagNameNS(mdNs, 'KeyDescriptor'))
    .filter((keyDescriptor) => keyDescriptor.getAttribute('use') === 'signing')
    .flatMap((keyDescriptor) => Array.from(keyDescriptor.getElementsByTagNameNS(dsNs, 'X509Certificate')))
    .map((element) => (element.textContent ?? '').replace(/\s+/g, ''))
  return { authnRequestsSigned: descriptor?.getAttribute('AuthnRequestsSigned'), certificates }
}

describe('signed AuthnRequests and SP signing key rotation', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp({ SP_KEY_SECRET: randomBytes(32).toString('base64url') })
  })
  after(() => auth.close())

  /** Lasso, as the dev IdP, processing the redirect with the SP metadata the route serves now. */
  const lassoAccepts = async (redirectUrl: string, spMetadataXml: string) => {
    const idp = await devIdp()
    return lassoAcceptsAuthnRequest({
      idpMetadataXml: idp.federationMetadataXml(),
      idpKeyPem: idp.keys.privateKeyPem,
      idpCertificatePem: idp.keys.certificatePem,
      spMetadataXml,
      redirectUrl,
    })
  }

  const metadataOf = async (connection: ConnectionView) => {
    const response = await auth.app.inject({ method: 'GET', url: `/sso/saml/${connection.id}/metadata` })
    assert.equal(response.statusCode, 200)
    return response.body
  }
  const ssoRequest = (
    method: 'PATCH' | 'POST' | 'PUT' | 'DELETE',
    workspaceId: string,
    cookie: string,
    path = '',
    payload?: object,
  ) =>
    auth.app.inject({
      method,
      url: `/v1/workspaces/${workspaceId}/sso${path}`,
      headers: { cookie },
      ...(payload ? { payload } : {}),
    })

  it('a new connection publishes its SP signing certificate and sends unsigned requests until signing is turned on', async () => {
    const { connection } = await workspaceWithSso(auth.app)
    assert.equal(connection.signAuthnRequests, false)
    assert.equal(connection.sp.signingCertificates.length, 1)
    assert.equal(connection.sp.signingCertificates[0]?.signing, true)
    const metadata = readSpMetadata(await metadataOf(connection))
    assert.equal(metadata.authnRequestsSigned, 'false')
    assert.equal(metadata.certificates.length, 1)
    const { location } = await startSpLogin(auth.app, connection)
    assert.equal(location.searchParams.get('SigAlg'), null)
    assert.equal(location.searchParams.get('Signature'), null)
  })

  it('the private key is sealed at rest: no PEM in the row, and it opens only for its own connection', async () => {
    const { connection } = await workspaceWithSso(auth.app)
    const [row] = await auth.db.select().from(ssoConnections).where(eq(ssoConnections.id, connection.id))
    const [stored] = row?.spSigningKeys ?? []
    assert.ok(stored)
    assert.match(stored.sealedPrivateKey, /^aes-256-gcm\.v1\./)
    assert.ok(!JSON.stringify(row).includes('PRIVATE KEY'))

    const secret = randomBytes(32).toString('base64url')
    const vault = createSpKeyVault(secret)
    const created = await vault.create(connection.id)
    assert.match(vault.open(created, connection.id), /^-----BEGIN PRIVATE KEY-----/)
    assert.throws(() => vault.open(created, randomUUID()), /does not open/)
    assert.throws(
      () => createSpKeyVault(randomBytes(32).toString('base64url')).open(created, connection.id),
      /does not open/,
    )
    assert.throws(() => createSpKeyVault(null).open(created, connection.id), /SP_KEY_SECRET is not set/)
  })

  it(
    'once an admin turns signing on, requests verify with OpenSSL and the key from the SP metadata, and the metadata says so',
    independentTools,
    async () => {
      const { workspace, connection } = await workspaceWithSso(auth.app)
      const admin = await signUp(auth.app)
      await auth.app.workspaces.grantMembershipFromInvitation(
        invitationAccepted(workspace.id, { userId: admin.user.id, email: admin.email }, 'admin'),
      )
      const turnedOn = await ssoRequest('PATCH', workspace.id, admin.cookie, '', { signAuthnRequests: true })
      assert.equal(turnedOn.statusCode, 200, turnedOn.body)
      assert.equal(turnedOn.json().connection.signAuthnRequests, true)

      const metadataXml = await metadataOf(connection)
      assert.deepEqual(validateAgainstSamlSchema(metadataXml, 'metadata'), { valid: true })
      const metadata = readSpMetadata(metadataXml)
      assert.equal(metadata.authnRequestsSigned, 'true')
      const [published] = metadata.certificates
      assert.ok(published)

      const started = await startSpLogin(auth.app, connection, '/after')
      const check = verifyRedirectSignature(started.location.href, published)
      assert.equal(check.opensslOutput, 'Verified OK', check.signedOctets)
      assert.equal(check.sigAlg, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')
      assert.match(check.signedOctets, /^SAMLRequest=[^&]+&RelayState=[^&]+&SigAlg=[^&]+$/)
      // Another RelayState under the same signature is refused by the same verifier.
      const forged = started.location.href.replace(/RelayState=[^&]+/, 'RelayState=forged')
      assert.equal(verifyRedirectSignature(forged, published).verified, false)

      // An IdP's own check: Lasso verifies the signature with the key in the SP metadata, refuses the forgery.
      assert.deepEqual(await lassoAccepts(started.location.href, metadataXml), {
        accepted: true,
        issuer: connection.sp.entityId,
        error: null,
      })
      const refused = await lassoAccepts(forged, metadataXml)
      assert.equal(refused.accepted, false)
      assert.match(refused.error ?? '', /Signature/i)
    },
  )

  it('a replica with another SP_KEY_SECRET cannot sign, but still takes responses at the ACS', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    await ssoRequest('PATCH', workspace.id, owner.cookie, '', { signAuthnRequests: true })
    const misconfigured = await startAuthApp({ SP_KEY_SECRET: randomBytes(32).toString('base64url') })
    try {
      const start = await misconfigured.app.inject({ method: 'GET', url: `/sso/saml/${connection.id}/login` })
      assert.equal(start.statusCode, 500)
      assert.doesNotMatch(start.body, /PRIVATE KEY|SP_KEY_SECRET/)
      const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email: owner.email } })
      const acs = await postAndConfirm(misconfigured.app, connection.id, { SAMLResponse: samlResponse })
      assert.equal(acs.statusCode, 302, acs.body)
    } finally {
      await misconfigured.close()
    }
  })

  it('turns signing on when the imported IdP metadata says WantAuthnRequestsSigned, and shows why', async () => {
    const idp = await devIdp()
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const metadataXml = idp
      .federationMetadataXml()
      .replace('<IDPSSODescriptor ', '<IDPSSODescriptor WantAuthnRequestsSigned="true" ')
    const imported = await ssoRequest('PUT', workspace.id, owner.cookie, '/idp', { metadataXml })
    assert.equal(imported.statusCode, 200, imported.body)
    const connection = imported.json().connection
    assert.equal(connection.idp.wantAuthnRequestsSigned, true)
    assert.equal(connection.signAuthnRequests, true)
    const { location } = await startSpLogin(auth.app, connection)
    assert.ok(location.searchParams.get('Signature'))

    // The admin may still turn it off (the IdP will then refuse the requests, which is theirs to judge).
    const off = await ssoRequest('PATCH', workspace.id, owner.cookie, '', { signAuthnRequests: false })
    assert.equal(off.json().connection.signAuthnRequests, false)
    assert.equal(off.json().connection.idp.wantAuthnRequestsSigned, true)
  })

  it(
    'rotation: the new key signs at once, both certificates stay in the (schema-valid) metadata until the old one is retired',
    independentTools,
    async () => {
      const { owner, workspace, connection } = await workspaceWithSso(auth.app)
      await ssoRequest('PATCH', workspace.id, owner.cookie, '', { signAuthnRequests: true })
      const [oldCertificate] = readSpMetadata(await metadataOf(connection)).certificates
      assert.ok(oldCertificate)
      const oldKeyId = connection.sp.signingCertificates[0]?.id

      const rotated = await ssoRequest('POST', workspace.id, owner.cookie, '/signing-keys')
      assert.equal(rotated.statusCode, 201, rotated.body)
      const keys = rotated.json().connection.sp.signingCertificates
      assert.deepEqual(
        keys.map((key: { id: string; signing: boolean }) => [key.id === oldKeyId, key.signing]),
        [
          [false, true],
          [true, false],
        ],
      )

      const overlapXml = await metadataOf(connection)
      assert.deepEqual(validateAgainstSamlSchema(overlapXml, 'metadata'), { valid: true })
      const overlap = readSpMetadata(overlapXml)
      assert.equal(overlap.certificates.length, 2)
      const [newCertificate, stillPublished] = overlap.certificates
      assert.equal(stillPublished, oldCertificate)
      assert.ok(newCertificate && newCertificate !== oldCertificate)
      const { location } = await startSpLogin(auth.app, connection)
      assert.equal(verifyRedirectSignature(location.href, newCertificate).verified, true)
      assert.equal(verifyRedirectSignature(location.href, oldCertificate).verified, false)
      assert.equal((await lassoAccepts(location.href, overlapXml)).accepted, true)

      const retireSigning = await ssoRequest('DELETE', workspace.id, owner.cookie, `/signing-keys/${keys[0].id}`)
      assert.equal(retireSigning.statusCode, 409)
      assert.equal(retireSigning.json().error, 'signing_key_in_use')

      const retired = await ssoRequest('DELETE', workspace.id, owner.cookie, `/signing-keys/${oldKeyId}`)
      assert.equal(retired.statusCode, 200, retired.body)
      assert.deepEqual(readSpMetadata(await metadataOf(connection)).certificates, [newCertificate])
      const again = await ssoRequest('DELETE', workspace.id, owner.cookie, `/signing-keys/${oldKeyId}`)
      assert.equal(again.statusCode, 404)
    },
  )

  it('publishes at most three keys, and only owners and admins may rotate', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const byMember = await ssoRequest('POST', workspace.id, member.cookie, '/signing-keys')
    assert.equal(byMember.statusCode, 403)
    for (const expected of [201, 201, 409]) {
      const rotated = await ssoRequest('POST', workspace.id, owner.cookie, '/signing-keys')
      assert.equal(rotated.statusCode, expected, rotated.body)
    }
    const full = await ssoRequest('POST', workspace.id, owner.cookie, '/signing-keys')
    assert.equal(full.json().error, 'signing_key_limit')
  })
})

describe('SP_KEY_SECRET', () => {
  const production = {
    NODE_ENV: 'production',
    COOKIE_SECRET: randomBytes(32).toString('base64url'),
    INTERNAL_TOKEN: randomBytes(32).toString('base64url'),
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
  }

  it('is required in production, must be 32+ characters, and may be left out in development', () => {
    assert.throws(() => loadConfig(production), /SP_KEY_SECRET: is required when NODE_ENV=production/)
    assert.throws(() => loadConfig({ ...production, SP_KEY_SECRET: 'short' }), /SP_KEY_SECRET: must be at least 32/)
    const secret = randomBytes(32).toString('base64url')
    assert.equal(loadConfig({ ...production, SP_KEY_SECRET: secret }).spKeySecret, secret)
    assert.equal(loadConfig({}).spKeySecret, null)
  })
})
