// Builds the auth app against the real Postgres and Redis, and the steps tests share, each
// through the public HTTP API (app.inject), as a browser or the frontend would take them.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { connect } from '@gatehouse/db'
import { copyInitializedPglite } from '@gatehouse/db/initialized-pglite'
import { buildFederationMetadataXml, createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { createEvent } from '@gatehouse/events'
import { createRedis } from '@gatehouse/server/redis'
import { createTokenSeal, type TokenSeal } from '@gatehouse/server/sealed-token'
import {
  inProcessPressureLimits,
  redisUrl,
  temporaryDirectory,
  uniqueEmail,
  uniqueIp,
  uniqueSuffix,
} from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { desc, sql } from 'drizzle-orm'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { testFileDatabase } from '../../../test/support/isolated-database.ts'
import { buildApp, migrationsFolder, schema } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'

export const publicUrl = 'http://localhost:3000'
/**
 * argon2id at 1 MiB and one pass: a few milliseconds where OWASP's cost takes some 30 ms of CPU, for
 * files that make hundreds of accounts. accounts.test.ts keeps buildApp's default.
 */
const testPasswordHashCost = { memoryCost: 1024, timeCost: 1 }
export const strongPassword = 'correct horse battery staple'

const appSecrets = new WeakMap<FastifyInstance, { db: AuthTestApp['db']; seal: TokenSeal }>()

export interface AuthTestApp {
  app: FastifyInstance
  db: Awaited<ReturnType<typeof connect<typeof schema>>>['db']
  /** The BullMQ queue its SSO upkeep schedules and runs on. */
  ssoUpkeepQueue: string
  close: () => Promise<void>
}

/**
 * A fresh auth app (a "replica") on the test file's own database, which the file's other apps
 * share as replicas do (see isolated-database.ts), and the shared Redis. With `embedded`,
 * it runs on its own PGlite database in a temporary directory instead (what `pnpm dev` runs on).
 */
export async function startAuthApp(
  env: Record<string, string> = {},
  options: {
    embedded?: boolean
    /** A database of the test's own instead of the one its file shares (testFileDatabase). */
    databaseUrl?: string
    logStream?: NodeJS.WritableStream
    ssoChangesPerHour?: number
    /** The app's clock (SSO upkeep and admin changes); the real one by default. */
    now?: () => Date
    /**
     * An SSO upkeep queue the test shares between apps (replicas of one schedule) and removes
     * itself; by default the app has one of its own, removed when it closes.
     */
    ssoUpkeepQueue?: string
    /** Passwords hashed at buildApp's default cost (OWASP's) instead of the tests' cheap one. */
    owaspPasswordHashing?: boolean
  } = {},
): Promise<AuthTestApp> {
  const config = loadConfig({ PUBLIC_URL: publicUrl, REDIS_URL: redisUrl, ...env })
  const dataDir = options.embedded ? temporaryDirectory() : undefined
  // Not a test of PGlite's first start (connect.test.ts is): initdb's work is copied, the migrations run.
  if (dataDir) await copyInitializedPglite(join(dataDir.path, 'auth'))
  const database = await connect({
    url: dataDir ? undefined : (options.databaseUrl ?? (await testFileDatabase()).url),
    dataDir: dataDir?.path ?? config.dataDir,
    service: 'auth',
    migrationsFolder,
    schema,
  })
  const redis = createRedis(config.redisUrl)
  // Every test file's apps share one Redis database, each file with a Postgres database of its
  // own: on a shared queue one file's worker would run another file's upkeep on the wrong database.
  const upkeepQueue = options.ssoUpkeepQueue ?? `sso-upkeep-${uniqueSuffix()}`
  const app = await buildApp(config, {
    db: database.db,
    pingDatabase: () => database.ping(),
    redis,
    ssoChangesPerHour: options.ssoChangesPerHour,
    now: options.now,
    ssoUpkeepQueue: upkeepQueue,
    passwordHashCost: options.owaspPasswordHashing ? undefined : testPasswordHashCost,
    pressureLimits: inProcessPressureLimits,
    logger: options.logStream
      ? { level: 'info', stream: options.logStream }
      : env.DEBUG_LOG
        ? { level: 'error' }
        : undefined,
  })
  await app.ready()
  appSecrets.set(app, { db: database.db, seal: createTokenSeal(config.internalToken) })
  return {
    app,
    db: database.db,
    ssoUpkeepQueue: upkeepQueue,
    close: async () => {
      await app.close()
      if (!options.ssoUpkeepQueue) await removeQueue(config.redisUrl, upkeepQueue)
      redis.disconnect()
      await database.close()
      dataDir?.remove()
    },
  }
}

/** Removes a BullMQ queue of a test's own from Redis: its jobs, and its schedulers with them. */
export async function removeQueue(redisUrl: string, name: string): Promise<void> {
  const redis = createRedis(redisUrl)
  const queue = new Queue(name, { connection: redis })
  try {
    await queue.obliterate({ force: true })
  } finally {
    await queue.close()
    redis.disconnect()
  }
}

let sharedIdp: Promise<DevIdp> | undefined
/** One dev IdP (an RSA key pair made once per test process). */
export function devIdp(): Promise<DevIdp> {
  sharedIdp ??= generateSigningKeys().then((keys) => createDevIdp({ keys }))
  return sharedIdp
}

/** A dev IdP of its own whose signing certificate ends at `notAfter` (expiry notices). */
export async function devIdpWithCertificateEnding(notAfter: Date): Promise<DevIdp> {
  return createDevIdp({ keys: await generateSigningKeys({ notAfter }) })
}

/** The `session` cookie a response sets, as a Cookie header value. */
export function sessionCookieOf(response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find((candidate) => candidate.name === 'session')
  return cookie?.value ? `session=${cookie.value}` : undefined
}

/**
 * A password account whose address is proven, as its owner makes one: the signup, then the
 * confirmation link mailed to the address, opened in the same browser.
 */
export async function signUp(
  app: FastifyInstance,
  email = uniqueEmail(),
  names: { firstName?: string; lastName?: string } = {},
  remoteAddress = uniqueIp(),
) {
  const account = await signUpUnproven(app, email, names, remoteAddress)
  const token = await mailedToken(app, account.user.id, 'confirm_email')
  // From the signup's address: confirmations are limited per network, and each test person is one.
  const confirmed = await app.inject({
    method: 'POST',
    url: '/v1/auth/email/confirm',
    headers: { cookie: account.cookie },
    payload: { token },
    remoteAddress,
  })
  if (confirmed.statusCode !== 200) throw new Error(`confirmation failed: ${confirmed.statusCode} ${confirmed.body}`)
  return account
}

/** The latest link auth mailed an account (`auth.link.issued` in its outbox), opened as the mailer opens it. */
export async function mailedToken(app: FastifyInstance, userId: string, purpose: 'confirm_email' | 'reset_password') {
  const running = appSecrets.get(app)
  if (!running) throw new Error('not an app of startAuthApp')
  const [row] = await running.db
    .select({ event: schema.outbox.event })
    .from(schema.outbox)
    .where(
      sql`${schema.outbox.type} = 'auth.link.issued' and ${schema.outbox.event} ->> 'userId' = ${userId} and ${schema.outbox.event} ->> 'purpose' = ${purpose}`,
    )
    .orderBy(desc(schema.outbox.position))
    .limit(1)
  const event = row?.event
  if (event?.type !== 'auth.link.issued') throw new Error(`no ${purpose} link was mailed to ${userId}`)
  const token = running.seal.open(event.sealedToken, event.linkId)
  if (!token) throw new Error('the mailed link does not open with the app’s INTERNAL_TOKEN')
  return token
}

/** A signup as it is made: the address is not proven until its confirmation link is used. */
export async function signUpUnproven(
  app: FastifyInstance,
  email = uniqueEmail(),
  names: { firstName?: string; lastName?: string } = {},
  remoteAddress = uniqueIp(),
) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    remoteAddress,
    payload: { email, password: strongPassword, ...names },
  })
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode} ${response.body}`)
  const cookie = sessionCookieOf(response)
  if (!cookie) throw new Error('signup set no session cookie')
  return { email, cookie, user: response.json().user as { id: string; email: string } }
}

export async function createWorkspace(app: FastifyInstance, cookie: string, name = 'Acme') {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: { cookie },
    payload: { name },
  })
  if (response.statusCode !== 201) throw new Error(`workspace failed: ${response.statusCode} ${response.body}`)
  return response.json().workspace as { id: string; name: string }
}

export interface ConnectionView {
  id: string
  workspaceId: string
  enabled: boolean
  allowIdpInitiated: boolean
  emailFromAttribute: boolean
  allowSha1: boolean
  signAuthnRequests: boolean
  idpKind: string
  sp: {
    entityId: string
    acsUrl: string
    metadataUrl: string
    loginUrl: string
    signingCertificates: { id: string; fingerprintSha256: string; signing: boolean }[]
  }
  idp: {
    ssoUrl: string
    entityId: string
    certificates: { fingerprintSha256: string; notAfter: string }[]
    wantAuthnRequestsSigned: boolean
  } | null
  status: string
}

/** An owner with a workspace whose SSO is on and pointed at the dev IdP, as the admin would do it. */
export async function workspaceWithSso(
  app: FastifyInstance,
  options: { allowIdpInitiated?: boolean; owner?: Awaited<ReturnType<typeof signUp>> } = {},
) {
  const idp = await devIdp()
  const owner = options.owner ?? (await signUp(app))
  const workspace = await createWorkspace(app, owner.cookie)
  const turnedOn = await app.inject({
    method: 'POST',
    url: `/v1/workspaces/${workspace.id}/sso`,
    headers: { cookie: owner.cookie },
  })
  if (turnedOn.statusCode !== 201) throw new Error(`turn on SSO failed: ${turnedOn.body}`)
  const configured = await app.inject({
    method: 'PUT',
    url: `/v1/workspaces/${workspace.id}/sso/idp`,
    headers: { cookie: owner.cookie },
    payload: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
  })
  if (configured.statusCode !== 200) throw new Error(`configure IdP failed: ${configured.body}`)
  let connection = configured.json().connection as ConnectionView
  if (options.allowIdpInitiated) {
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
      payload: { allowIdpInitiated: true },
    })
    connection = patched.json().connection
  }
  return { owner, workspace, connection, idp }
}

/** SP-initiated start: follows /login and returns what the IdP and the browser received. */
export async function startSpLogin(
  app: FastifyInstance,
  connection: ConnectionView,
  returnTo: string | null = '/',
  /** Where the browser says the start came from (`Sec-Fetch-Site`); none sent unless told, as a non-browser. */
  secFetchSite?: 'cross-site' | 'same-site' | 'same-origin' | 'none',
) {
  const idp = await devIdp()
  const response = await app.inject({
    method: 'GET',
    url: `/sso/saml/${connection.id}/login${returnTo === null ? '' : `?returnTo=${encodeURIComponent(returnTo)}`}`,
    headers: secFetchSite ? { 'sec-fetch-site': secFetchSite } : {},
    remoteAddress: uniqueIp(),
  })
  if (response.statusCode !== 302) throw new Error(`login start failed: ${response.statusCode} ${response.body}`)
  const location = new URL(String(response.headers.location))
  const request = idp.parseAuthnRequest({
    SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
    RelayState: location.searchParams.get('RelayState') ?? undefined,
  })
  const relayState = location.searchParams.get('RelayState') ?? ''
  // The browser keeps the start in a cookie of its own, named by its RelayState.
  const pending = response.cookies.find((cookie) => cookie.name === `saml_pending_${relayState}`)
  return {
    location,
    requestId: request.id,
    relayState,
    bindingCookie: pending ? `${pending.name}=${pending.value}` : '',
  }
}

/**
 * A whole SP-initiated sign-in by one browser: the login start, the IdP's answer for `user`, and its
 * post back to the ACS with the start's RelayState and binding cookie.
 */
export async function signInSpInitiated(
  app: FastifyInstance,
  connection: ConnectionView,
  idp: DevIdp,
  user: { email: string; firstName?: string; lastName?: string },
  returnTo: string | null = '/',
  /** The `session` cookie the browser already holds, if any. */
  sessionCookie = '',
) {
  const started = await startSpLogin(app, connection, returnTo)
  const samlResponse = idp.responseBase64({ sp: connection.sp, user, inResponseTo: started.requestId })
  const acs = await postToAcs(
    app,
    connection.id,
    { SAMLResponse: samlResponse, RelayState: started.relayState },
    [started.bindingCookie, sessionCookie].filter(Boolean).join('; '),
  )
  return { started, acs }
}

export function postToAcs(
  app: FastifyInstance,
  connectionId: string,
  form: { SAMLResponse: string; RelayState?: string },
  cookie = '',
  // Each post from an address of its own unless told: refusals are limited per address.
  remoteAddress = uniqueIp(),
) {
  return app.inject({
    method: 'POST',
    url: `/sso/saml/${connectionId}/acs`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    payload: new URLSearchParams(form).toString(),
    remoteAddress,
  })
}

/**
 * The IdP's answer for `email` to a start, posted as a browser posts it from the IdP's page:
 * cross-site (`Sec-Fetch-Site`), with the start's SameSite=None pending cookie and never the
 * SameSite=Lax session cookie.
 */
export function answerFromIdpPage(
  app: FastifyInstance,
  { connection, idp }: { connection: ConnectionView; idp: DevIdp },
  email: string,
  started: Awaited<ReturnType<typeof startSpLogin>>,
) {
  const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email }, inResponseTo: started.requestId })
  return app.inject({
    method: 'POST',
    url: `/sso/saml/${connection.id}/acs`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'cross-site',
      cookie: started.bindingCookie,
    },
    payload: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: started.relayState }).toString(),
    remoteAddress: uniqueIp(),
  })
}

/**
 * An unsolicited response posted to the ACS, then confirmed on the confirmation page as the
 * person would (a same-origin POST); the ACS's answer itself when it asked for no confirmation.
 */
export async function postAndConfirm(
  app: FastifyInstance,
  connectionId: string,
  form: { SAMLResponse: string; RelayState?: string },
  cookie = '',
) {
  const posted = await postToAcs(app, connectionId, form, cookie)
  if (posted.statusCode !== 200) return posted
  const { action, confirmation } = posted.json() as { action: string; confirmation: string }
  return app.inject({
    method: 'POST',
    url: action,
    headers: {
      origin: publicUrl,
      cookie,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    payload: new URLSearchParams({ confirmation }).toString(),
  })
}

/** The `invitation.accepted` event the invitation service sends when `account` joins the workspace. */
export function invitationAccepted(
  workspaceId: string,
  account: { userId: string; email: string },
  role: 'member' | 'admin' = 'member',
) {
  return createEvent('invitation.accepted', {
    invitationId: randomUUID(),
    workspaceId,
    userId: account.userId,
    email: account.email,
    role,
    acceptedAt: new Date().toISOString(),
  })
}

/** Acme (with SSO) and a person who owns Beta and was invited into Acme: what an attacker at Acme starts from. */
export async function personInTwoWorkspaces(app: FastifyInstance) {
  const acme = await workspaceWithSso(app)
  const person = await signUp(app)
  const beta = await createWorkspace(app, person.cookie, 'Beta')
  const granted = await app.workspaces.grantMembershipFromInvitation(
    invitationAccepted(acme.workspace.id, { userId: person.user.id, email: person.email }),
  )
  assert.equal(granted, 'granted')
  const { acs } = await signInSpInitiated(app, acme.connection, acme.idp, { email: person.email })
  assert.equal(acs.statusCode, 302, acs.body)
  const ssoCookie = sessionCookieOf(acs)
  assert.ok(ssoCookie)
  return { acme, person, beta, ssoCookie }
}

/**
 * The IdP's metadata URL on loopback (plain http: the development setting): it publishes the
 * certificates the test names, signed with the key the IdP signs with, as Entra does in a rollover.
 */
export async function startIdpMetadataServer() {
  let body = ''
  let status = 200
  const server: Server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/samlmetadata+xml' })
    response.end(status === 200 ? body : '')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/federationmetadata/2007-06/federationmetadata.xml`,
    publish(
      signer: DevIdp,
      certificates: DevIdp[],
      overrides: { entityId?: string; wantAuthnRequestsSigned?: boolean } = {},
    ) {
      status = 200
      body = buildFederationMetadataXml({
        entityId: overrides.entityId ?? signer.entityId,
        wantAuthnRequestsSigned: overrides.wantAuthnRequestsSigned ?? false,
        loginUrl: signer.loginUrl,
        logoutUrl: signer.logoutUrl,
        keys: signer.keys,
        certificatesPem: certificates.map((idp) => idp.keys.certificatePem),
      })
    },
    publishRaw(text: string) {
      status = 200
      body = text
    },
    fail(code: number) {
      status = code
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// Shared with the other services' tests.
export { holdInTransaction, lockWaiters } from '../../../test/support/transactions.ts'
