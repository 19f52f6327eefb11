import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createDevIdp } from '@gatehouse/dev-idp'
import { eventually, uniqueEmail } from '@gatehouse/testing'
import type { FastifyInstance } from 'fastify'
import { createIsolatedDatabase, type IsolatedDatabase } from '../../../test/support/isolated-database.ts'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import {
  type AuthTestApp,
  invitationAccepted,
  postAndConfirm,
  postToAcs,
  signInSpInitiated,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

interface SignIn {
  id: string
  email: string
  outcome: string
  code: string | null
  reason: string | null
  reference: string | null
  message: string | null
  initiation: string | null
  certificateFingerprint: string | null
}

async function signInsOf(app: FastifyInstance, workspaceId: string, cookie: string, query = '') {
  const response = await app.inject({
    method: 'GET',
    url: `/v1/workspaces/${workspaceId}/sso/sign-ins${query}`,
    headers: { cookie },
  })
  assert.equal(response.statusCode, 200, response.body)
  return response.json() as {
    signIns: SignIn[]
    nextCursor: string | null
    health: {
      status: string
      attempts: number
      refused: number
      latestRefusal: SignIn | null
      latestCertificate: string | null
    }
  }
}

/** The history once it holds `count` rows: it is written from the event stream, a moment after. */
function historyWith(app: FastifyInstance, workspaceId: string, cookie: string, count: number, query = '') {
  return eventually(
    `${count} sign-ins in the history`,
    async () => {
      const page = await signInsOf(app, workspaceId, cookie, query)
      return page.signIns.length >= count ? page : undefined
    },
    { intervalMs: 20 },
  )
}

describe('SSO sign-in history', () => {
  let auth: AuthTestApp
  before(async () => {
    // A Redis database of this file's own: another process's projection (with a Postgres database
    // of its own) would otherwise take this file's sign-ins.
    // Its own Postgres database too: every auth process relays whatever unpublished outbox rows its
    // database holds, and another file's would publish these sign-ins to its own Redis.
    database = await createIsolatedDatabase({ migrated: true })
    auth = await startAuthApp({ REDIS_URL: await unusedRedisDatabaseUrl() }, { databaseUrl: database.url })
  })
  let database: IsolatedDatabase | undefined
  after(async () => {
    await auth?.close()
    await database?.drop()
  })

  it('records a sign-in with its initiation and the certificate that signed it', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const sp = await signInSpInitiated(auth.app, connection, idp, { email: owner.email })
    assert.equal(sp.acs.statusCode, 302)
    const idpInitiated = await postAndConfirm(auth.app, connection.id, {
      SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
    })
    assert.equal(idpInitiated.statusCode, 302)

    const { signIns, health } = await historyWith(auth.app, workspace.id, owner.cookie, 2)
    const fingerprint = connection.idp?.certificates[0]?.fingerprintSha256
    assert.ok(fingerprint)
    assert.deepEqual(
      signIns.map((signIn) => [signIn.email, signIn.outcome, signIn.initiation, signIn.certificateFingerprint]),
      [
        [owner.email, 'succeeded', 'idp', fingerprint],
        [owner.email, 'succeeded', 'sp', fingerprint],
      ],
    )
    assert.equal(health.status, 'healthy')
    assert.equal(health.latestCertificate, fingerprint)
  })

  it('turns Failing with what to fix when sign-ins are refused, and finds them by reference', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    // The IdP's Identifier saved wrong: every response's issuer differs from it.
    const otherTenant = createDevIdp({ keys: idp.keys, tenantId: randomUUID() })
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await postToAcs(auth.app, connection.id, {
        SAMLResponse: otherTenant.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
      })
      assert.equal(refused.json().reason, 'issuer_mismatch')
    }
    const stranger = uniqueEmail('stranger')
    const notMember = await postToAcs(auth.app, connection.id, {
      SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: stranger } }),
    })
    assert.equal(notMember.statusCode, 403)

    const all = await historyWith(auth.app, workspace.id, owner.cookie, 4)
    assert.equal(all.health.status, 'failing')
    assert.equal(all.health.refused, 3)
    assert.equal(all.health.latestRefusal?.reference, 'saml_invalid/issuer_mismatch')
    assert.match(all.health.latestRefusal?.message ?? '', /Identifier/)

    const byReference = await signInsOf(auth.app, workspace.id, owner.cookie, '?reference=saml_invalid/issuer_mismatch')
    assert.equal(byReference.signIns.length, 3)
    assert.ok(byReference.signIns.every((signIn) => signIn.outcome === 'failed' && signIn.code === 'saml_invalid'))
    const notAllowed = await signInsOf(auth.app, workspace.id, owner.cookie, '?reference=sso_not_allowed')
    assert.deepEqual(
      notAllowed.signIns.map((signIn) => [signIn.email, signIn.reference]),
      [[stranger, 'sso_not_allowed/not_a_member']],
    )
  })

  it('pages newest first with a cursor, and refuses a forged one', async () => {
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    for (let attempt = 0; attempt < 3; attempt++) {
      await postAndConfirm(auth.app, connection.id, {
        SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
      })
    }
    const all = await historyWith(auth.app, workspace.id, owner.cookie, 3)
    const seen: string[] = []
    let cursor: string | null = ''
    while (cursor !== null) {
      const page = await signInsOf(auth.app, workspace.id, owner.cookie, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...page.signIns.map((signIn) => signIn.id))
      cursor = page.nextCursor
    }
    assert.deepEqual(
      seen,
      all.signIns.map((signIn) => signIn.id),
    )
    const forged = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/sso/sign-ins?cursor=${Buffer.from('2026-01-01 x').toString('base64url')}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(forged.statusCode, 400)
    assert.equal(forged.json().error, 'bad_request')
  })

  it('is shown to owners and admins only', async () => {
    const { owner, workspace } = await workspaceWithSso(auth.app)
    const member = await signUp(auth.app)
    await auth.app.workspaces.grantMembershipFromInvitation(
      invitationAccepted(workspace.id, { userId: member.user.id, email: member.email }),
    )
    const asMember = await auth.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspace.id}/sso/sign-ins`,
      headers: { cookie: member.cookie },
    })
    assert.equal(asMember.statusCode, 403)
    const signedOut = await auth.app.inject({ method: 'GET', url: `/v1/workspaces/${workspace.id}/sso/sign-ins` })
    assert.equal(signedOut.statusCode, 401)
    assert.equal((await signInsOf(auth.app, workspace.id, owner.cookie)).health.status, 'idle')
  })
})
