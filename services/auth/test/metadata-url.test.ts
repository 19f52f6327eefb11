import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import type { GatehouseEvent } from '@gatehouse/events'
import { createRedis } from '@gatehouse/server/redis'
import { redisUrl, uniqueSuffix } from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { sql } from 'drizzle-orm'
import { outbox } from '../src/db/schema.ts'
import { ssoUpkeepJobs, startSsoUpkeep } from '../src/sso/upkeep.ts'
import {
  type AuthTestApp,
  type ConnectionView,
  createWorkspace,
  devIdp,
  postAndConfirm,
  removeQueue,
  sessionCookieOf,
  signUp,
  startAuthApp,
  startIdpMetadataServer,
} from './harness.ts'

interface MetadataView {
  url: string
  checkedAt: string | null
  readAt: string | null
  problem: { kind: string; reason: string; message: string } | null
}
type ConnectionWithMetadata = ConnectionView & {
  signAuthnRequests: boolean
  idp: { metadata: MetadataView | null; wantAuthnRequestsSigned: boolean } | null
}

describe("an IdP's metadata URL, re-read on a schedule and on demand", () => {
  // Two replicas on one database: the admin and the refresh act on one, sign-ins go through the other.
  let admin: AuthTestApp
  let replica: AuthTestApp
  let metadata: Awaited<ReturnType<typeof startIdpMetadataServer>>
  before(async () => {
    admin = await startAuthApp({ IDP_METADATA_LOOPBACK_HTTP: 'true' })
    replica = await startAuthApp()
    metadata = await startIdpMetadataServer()
  })
  after(async () => {
    await admin.close()
    await replica.close()
    await metadata.close()
  })

  async function workspaceFromMetadataUrl(idp: DevIdp) {
    const owner = await signUp(admin.app)
    const workspace = await createWorkspace(admin.app, owner.cookie)
    const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      admin.app.inject({ method, url, headers: { cookie: owner.cookie }, ...(payload ? { payload } : {}) })
    assert.equal((await inject('POST', `/v1/workspaces/${workspace.id}/sso`)).statusCode, 201)
    metadata.publish(idp, [idp])
    const saved = await inject('PUT', `/v1/workspaces/${workspace.id}/sso/idp`, { metadataUrl: metadata.url })
    assert.equal(saved.statusCode, 200, saved.body)
    await inject('PATCH', `/v1/workspaces/${workspace.id}/sso`, { allowIdpInitiated: true })
    const connection = saved.json().connection as ConnectionWithMetadata
    const refreshNow = async () => {
      const response = await inject('POST', `/v1/workspaces/${workspace.id}/sso/idp/metadata/refresh`)
      assert.equal(response.statusCode, 200, response.body)
      return response.json() as {
        connection: ConnectionWithMetadata
        refresh: { outcome: string; fingerprints?: string[] }
      }
    }
    const signIn = (signer: DevIdp) =>
      postAndConfirm(replica.app, connection.id, {
        SAMLResponse: signer.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
      })
    /** Whether the AuthnRequest of a sign-in started now is signed. */
    const requestSigned = async () => {
      const started = await admin.app.inject({ method: 'GET', url: `/sso/saml/${connection.id}/login?returnTo=/` })
      assert.equal(started.statusCode, 302, started.body)
      return new URL(String(started.headers.location)).searchParams.has('Signature')
    }
    return { owner, workspace, connection, refreshNow, signIn, requestSigned, inject }
  }

  async function eventsAbout(connectionId: string): Promise<GatehouseEvent[]> {
    const rows = await admin.db
      .select()
      .from(outbox)
      .where(sql`${outbox.event}::jsonb ->> 'connectionId' = ${connectionId}`)
      .orderBy(outbox.createdAt)
    return rows.map((row) => row.event as GatehouseEvent)
  }

  it('applies the rotated key with overlap: old and new sign in until an admin removes the old one', async () => {
    const idp = await devIdp()
    const { owner, workspace, connection, refreshNow, signIn, inject } = await workspaceFromMetadataUrl(idp)
    const [oldCertificate] = connection.idp?.certificates ?? []
    assert.equal(connection.idp?.metadata?.url, metadata.url)
    assert.equal(connection.idp?.metadata?.problem, null)
    assert.equal((await signIn(idp)).statusCode, 302)

    // The IdP publishes its next certificate beside the current one, then signs with it.
    const renewed = createDevIdp({ keys: await generateSigningKeys() })
    assert.equal((await signIn(renewed)).json().reason, 'signature_invalid')
    metadata.publish(idp, [idp, renewed])
    const refreshed = await refreshNow()
    assert.equal(refreshed.refresh.outcome, 'certificates_added')
    const both = refreshed.connection.idp?.certificates.map((certificate) => certificate.fingerprintSha256)
    assert.equal(both?.length, 2)
    assert.equal(both?.[0], oldCertificate?.fingerprintSha256, 'the old certificate stays')
    assert.deepEqual(refreshed.refresh.fingerprints, [both?.[1]])
    const signedByOld = await signIn(idp)
    assert.equal(signedByOld.statusCode, 302, 'the old key still signs in (overlap)')
    const oldSession = sessionCookieOf(signedByOld)
    assert.ok(oldSession)
    assert.equal((await signIn(renewed)).statusCode, 302, 'the new key signs in')

    // The IdP drops the old certificate: the scheduled refresh keeps it (removal is the admin's call).
    metadata.publish(renewed, [renewed])
    assert.deepEqual(await admin.app.ssoUpkeep.refreshMetadata(connection.id), { outcome: 'unchanged' })
    assert.equal((await signIn(idp)).statusCode, 302, 'old sign-ins keep working until the old one is removed')
    assert.equal(
      (await replica.app.inject({ url: '/v1/auth/session', headers: { cookie: oldSession } })).statusCode,
      200,
      'a refresh ends no session',
    )

    const removed = await inject('DELETE', `/v1/workspaces/${workspace.id}/sso/idp/certificates/${both?.[0]}`)
    assert.equal(removed.statusCode, 200, removed.body)
    assert.equal((await signIn(idp)).statusCode, 400, 'removed: the old key is refused')
    assert.equal((await signIn(renewed)).statusCode, 302)

    // Each change is in the workspace's audit trail (by fingerprint, made by the system, no
    // address) and announced to the owners.
    const trail = await inject('GET', `/v1/workspaces/${workspace.id}/audit`)
    assert.equal(trail.statusCode, 200, trail.body)
    const audited = (
      trail.json() as {
        entries: { action: string; actor: object; ip: string | null; changes: Record<string, unknown> }[]
      }
    ).entries.filter((entry) => entry.action === 'sso.certificate_added')
    assert.deepEqual(
      audited.map((entry) => [entry.actor, entry.ip, entry.changes.via, entry.changes.fingerprint]),
      [[{ userId: null, email: null, method: 'system', setupLinkId: null }, null, 'metadata_refresh', both?.[1]]],
    )
    const announced = (await eventsAbout(connection.id)).filter(
      (event) => event.type === 'sso.connection.changed' && event.via === 'metadata_refresh',
    )
    assert.equal(announced.length, 1)
    const [change] = announced
    assert.ok(change?.type === 'sso.connection.changed')
    assert.equal(change.what, 'certificate_added')
    assert.deepEqual(change.fingerprints, [both?.[1]])
    assert.deepEqual(change.notify, [owner.email])
    assert.equal(change.by, undefined, 'no session acted')
  })

  it('refuses another entity ID, and reports unreadable metadata, telling the owners once per problem', async () => {
    const idp = await devIdp()
    const { owner, connection, refreshNow, signIn } = await workspaceFromMetadataUrl(idp)

    metadata.publish(idp, [idp], { entityId: 'https://sts.windows.net/another-tenant/' })
    const refused = await refreshNow()
    assert.equal(refused.refresh.outcome, 'change_refused')
    assert.equal(refused.connection.idp?.entityId, idp.entityId, 'nothing changed')
    assert.equal(refused.connection.idp?.metadata?.problem?.reason, 'entity_id_changed')
    assert.equal((await refreshNow()).refresh.outcome, 'change_refused')
    assert.equal((await signIn(idp)).statusCode, 302, 'sign-ins go on with the saved settings')

    metadata.fail(500)
    const failed = await refreshNow()
    assert.equal(failed.refresh.outcome, 'unreadable')
    assert.equal(failed.connection.idp?.metadata?.problem?.reason, 'http_status')
    await admin.app.ssoUpkeep.refreshMetadata(connection.id)
    // The same bounds as an upload: a DTD is refused before anything is applied.
    metadata.publishRaw('<!DOCTYPE x [<!ENTITY a "b">]><EntityDescriptor/>')
    assert.equal((await refreshNow()).connection.idp?.metadata?.problem?.reason, 'invalid_metadata')

    metadata.publish(idp, [idp])
    const healthy = await refreshNow()
    assert.equal(healthy.refresh.outcome, 'unchanged')
    assert.equal(healthy.connection.idp?.metadata?.problem, null)

    const problems = (await eventsAbout(connection.id)).filter((event) => event.type === 'sso.metadata.problem')
    assert.deepEqual(
      problems.map((event) => event.type === 'sso.metadata.problem' && [event.kind, event.reason, event.notify]),
      [
        ['change_refused', 'entity_id_changed', [owner.email]],
        ['unreadable', 'http_status', [owner.email]],
        ['unreadable', 'invalid_metadata', [owner.email]],
      ],
    )
  })

  it("applies the IdP's WantAuthnRequestsSigned as saving the metadata does: signing turns on when asked, and stays the admin's call after", async () => {
    const idp = await devIdp()
    const { workspace, connection, refreshNow, signIn, requestSigned, inject } = await workspaceFromMetadataUrl(idp)
    assert.equal(connection.idp?.wantAuthnRequestsSigned, false)
    assert.equal(connection.signAuthnRequests, false)
    assert.equal(await requestSigned(), false)

    // The IdP starts to require signed requests: the refresh signs them from now on.
    metadata.publish(idp, [idp], { wantAuthnRequestsSigned: true })
    const asked = await refreshNow()
    assert.equal(asked.refresh.outcome, 'signing_changed')
    assert.equal(asked.connection.idp?.wantAuthnRequestsSigned, true)
    assert.equal(asked.connection.signAuthnRequests, true)
    assert.equal(await requestSigned(), true)
    assert.equal((await refreshNow()).refresh.outcome, 'unchanged')
    assert.equal((await signIn(idp)).statusCode, 302, 'sign-ins go on')

    // It stops asking: what it asks is recorded, and signing stays on (signing never weakens anything).
    metadata.publish(idp, [idp])
    const dropped = await refreshNow()
    assert.equal(dropped.refresh.outcome, 'signing_changed')
    assert.equal(dropped.connection.idp?.wantAuthnRequestsSigned, false)
    assert.equal(dropped.connection.signAuthnRequests, true)

    const trail = await inject('GET', `/v1/workspaces/${workspace.id}/audit`)
    const changes = (trail.json() as { entries: { action: string; changes: Record<string, unknown> }[] }).entries
      .filter((entry) => entry.action === 'sso.updated' && entry.changes.via === 'metadata_refresh')
      .map((entry) => [entry.changes.idpWantsSignedRequests, entry.changes.signAuthnRequests])
    assert.deepEqual(changes, [
      [false, undefined],
      [true, true],
    ])
  })

  it('applies a new certificate and WantAuthnRequestsSigned read together; removing the certificate the IdP dropped then ends only its sessions, and signing stays on', async () => {
    const idp = await devIdp()
    const { workspace, connection, refreshNow, signIn, requestSigned, inject } = await workspaceFromMetadataUrl(idp)
    const [oldCertificate] = connection.idp?.certificates ?? []
    const signedInByOld = sessionCookieOf(await signIn(idp))
    assert.ok(signedInByOld)
    assert.equal(await requestSigned(), false)

    // One reading of the metadata: the old certificate gone, a new one listed, signed requests asked for.
    const renewed = createDevIdp({ keys: await generateSigningKeys() })
    metadata.publish(renewed, [renewed], { wantAuthnRequestsSigned: true })
    const refreshed = await refreshNow()
    assert.equal(refreshed.refresh.outcome, 'certificates_added')
    const fingerprints = refreshed.connection.idp?.certificates.map((certificate) => certificate.fingerprintSha256)
    assert.deepEqual(fingerprints, [oldCertificate?.fingerprintSha256, refreshed.refresh.fingerprints?.[0]])
    assert.equal(refreshed.connection.idp?.wantAuthnRequestsSigned, true)
    assert.equal(refreshed.connection.signAuthnRequests, true)
    assert.equal(await requestSigned(), true)
    const reaches = async (cookie: string) =>
      (await replica.app.inject({ url: `/v1/workspaces/${workspace.id}`, headers: { cookie } })).statusCode
    assert.equal(await reaches(signedInByOld), 200, 'a refresh ends no session')
    const signedInByNew = sessionCookieOf(await signIn(renewed))
    assert.ok(signedInByNew)
    assert.equal((await signIn(idp)).statusCode, 302, 'the dropped certificate stays until an admin removes it')

    const removed = await inject('DELETE', `/v1/workspaces/${workspace.id}/sso/idp/certificates/${fingerprints?.[0]}`)
    assert.equal(removed.statusCode, 200, removed.body)
    assert.equal(await reaches(signedInByOld), 401, 'the removed certificate’s sessions end')
    assert.equal(await reaches(signedInByNew), 200)
    assert.equal((await signIn(idp)).statusCode, 400)
    assert.equal(removed.json().connection.signAuthnRequests, true)
    assert.equal(await requestSigned(), true, 'the removal leaves signing as the refresh set it')
    assert.deepEqual(await admin.app.ssoUpkeep.refreshMetadata(connection.id), { outcome: 'unchanged' })

    // Both changes of the one reading are in the audit trail.
    const trail = await inject('GET', `/v1/workspaces/${workspace.id}/audit`)
    const refreshChanges = (trail.json() as { entries: { action: string; changes: Record<string, unknown> }[] }).entries
      .filter((entry) => entry.changes.via === 'metadata_refresh')
      .map((entry) => entry.action)
      .sort()
    assert.deepEqual(refreshChanges, ['sso.certificate_added', 'sso.updated'])
  })

  it('refuses a metadata URL that reaches a private address or is not https, before reading anything', async () => {
    const idp = await devIdp()
    const { workspace, inject } = await workspaceFromMetadataUrl(idp)
    for (const [metadataUrl, reason] of [
      ['https://169.254.169.254/latest/meta-data/', 'address_refused'],
      ['https://10.0.0.7/federationmetadata.xml', 'address_refused'],
      ['ftp://idp.example/metadata.xml', 'invalid_url'],
    ] as const) {
      const refused = await inject('PUT', `/v1/workspaces/${workspace.id}/sso/idp`, { metadataUrl })
      assert.equal(refused.statusCode, 400, metadataUrl)
      assert.equal(refused.json().error, 'invalid_metadata_url')
      assert.equal(refused.json().reason, reason, metadataUrl)
      assert.ok(refused.json().fields.metadataUrl, 'the message is next to the field')
    }
    // Production never reads plain http, not even from loopback.
    const production = await startAuthApp({ IDP_METADATA_LOOPBACK_HTTP: 'false' })
    try {
      const owner = await signUp(production.app)
      const other = await createWorkspace(production.app, owner.cookie)
      const headers = { cookie: owner.cookie }
      await production.app.inject({ method: 'POST', url: `/v1/workspaces/${other.id}/sso`, headers })
      const refused = await production.app.inject({
        method: 'PUT',
        url: `/v1/workspaces/${other.id}/sso/idp`,
        headers,
        payload: { metadataUrl: metadata.url },
      })
      assert.equal(refused.json().reason, 'invalid_url')
    } finally {
      await production.close()
    }
  })

  it('schedules the refresh every 12 hours and the expiry notices hourly, once however many replicas start', async () => {
    // Two more replicas on one upkeep queue (the test apps' are each their own by default); a
    // replica closes once its schedulers are saved.
    const queue = `sso-upkeep-${uniqueSuffix()}`
    const replicas = [
      await startAuthApp({}, { ssoUpkeepQueue: queue }),
      await startAuthApp({}, { ssoUpkeepQueue: queue }),
    ]
    await Promise.all(replicas.map((replica) => replica.close()))
    const redis = createRedis(redisUrl)
    const schedules = new Queue(queue, { connection: redis })
    try {
      const schedulers = await schedules.getJobSchedulers()
      assert.deepEqual(schedulers.map((scheduler) => [scheduler.key, scheduler.every]).sort(), [
        [ssoUpkeepJobs.certificateExpiry, 60 * 60 * 1000],
        [ssoUpkeepJobs.metadataRefresh, 12 * 60 * 60 * 1000],
      ])
    } finally {
      await schedules.close()
      redis.disconnect()
      await removeQueue(redisUrl, queue)
    }
  })

  it('tries a scheduled run that failed again after a back-off, not at the next run an hour or 12 hours later', async () => {
    // The upkeep on a queue of its own, whose runs do what the test says: the expiry check fails
    // once (as when Postgres is away a moment), then succeeds. BullMQ starts an `every` schedule
    // with a run.
    const queue = `sso-upkeep-${uniqueSuffix()}`
    const outcome = Promise.withResolvers<'retried' | 'given up'>()
    const failedRuns: Record<string, unknown>[] = []
    let expiryRuns = 0
    const upkeep = startSsoUpkeep({
      db: admin.db,
      redisUrl,
      queue,
      retryDelayMs: 10,
      log: {
        info: () => {},
        warn: (details, message) => {
          if (message !== 'sso upkeep run failed') return
          failedRuns.push(details)
          // A job without attempts of its own is tried once.
          if (Number(details.attemptsMade) >= Number(details.attempts ?? 1)) outcome.resolve('given up')
        },
        error: (details, message) => outcome.reject(new Error(`${message}: ${JSON.stringify(details)}`)),
      },
      refresh: { refresh: async () => ({ outcome: 'unchanged' }) },
      expiry: {
        announceDue: async () => {
          expiryRuns++
          if (expiryRuns === 1) throw new Error('connection terminated unexpectedly')
          outcome.resolve('retried')
          return 0
        },
      },
    })
    try {
      assert.equal(await outcome.promise, 'retried')
      assert.equal(expiryRuns, 2)
      assert.deepEqual(failedRuns, [
        {
          queue,
          code: 'unexpected',
          err: 'connection terminated unexpectedly',
          job: ssoUpkeepJobs.certificateExpiry,
          attempts: 5,
          attemptsMade: 1,
        },
      ])
    } finally {
      await upkeep.close()
      await removeQueue(redisUrl, queue)
    }
  })

  it('answers 409 metadata_url_not_set when the IdP was set from values', async () => {
    const owner = await signUp(admin.app)
    const workspace = await createWorkspace(admin.app, owner.cookie)
    const idp = await devIdp()
    const headers = { cookie: owner.cookie }
    await admin.app.inject({ method: 'POST', url: `/v1/workspaces/${workspace.id}/sso`, headers })
    await admin.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${workspace.id}/sso/idp`,
      headers,
      payload: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    const response = await admin.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/sso/idp/metadata/refresh`,
      headers,
    })
    assert.equal(response.statusCode, 409)
    assert.equal(response.json().error, 'metadata_url_not_set')
  })
})
