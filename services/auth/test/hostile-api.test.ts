import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { costliestAllowedMetadata, hostileMetadata } from '@gatehouse/saml/hostile-metadata'
import { hostileRequests, type Injectable, serverErrorsFor, uniqueEmail } from '@gatehouse/testing'
import { type AuthTestApp, startAuthApp, strongPassword, workspaceWithSso } from './harness.ts'

// Every route auth documents, each field, path and query parameter replaced in turn by values no
// honest client sends, and bodies that are not JSON objects, all from a signed-in workspace owner
// (so they reach the routes' logic): refusals are fine, a 5xx is not.
const entraMetadata = readFileSync(
  new URL('../../../test/fixtures/entra/ssoready-2023.federation-metadata.xml', import.meta.url),
  'utf8',
)

describe('every auth route under hostile input', () => {
  let auth: AuthTestApp
  before(async () => {
    // Every hostile metadata upload must reach the parser, not stop at the change limit.
    auth = await startAuthApp({}, { ssoChangesPerHour: 10_000 })
  })
  after(() => auth.close())

  it('answers each hostile request without a 5xx', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app)
    const spec = (auth.app as unknown as { swagger(): Parameters<typeof hostileRequests>[0] }).swagger()
    const requests = hostileRequests(
      spec,
      {
        workspaceId: workspace.id,
        connectionId: connection.id,
        email: () => uniqueEmail('hostile'),
        password: strongPassword,
        name: 'Acme',
        ssoUrl: idp.loginUrl,
        entityId: idp.entityId,
        certificate: idp.certificatePem,
      },
      {
        // Beyond the limits, and the costliest documents within them (parsed on the parser thread).
        metadataXml: [
          ...hostileMetadata(idp.federationMetadataXml()),
          ...hostileMetadata(entraMetadata),
          ...costliestAllowedMetadata(entraMetadata),
        ].map((variant) => variant.metadataXml),
      },
    )
    const failures = await serverErrorsFor(auth.app as unknown as Injectable, requests, owner.cookie)
    assert.deepEqual(failures, [])
    assert.ok(requests.length > 400, `${requests.length} requests`)
  })
})
