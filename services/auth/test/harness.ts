// Builds the auth app against the real Postgres and Redis, and the steps tests share, each
// through the public HTTP API (app.inject), as a browser or the frontend would take them.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { connect } from '@gatehouse/db'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { createEvent } from '@gatehouse/events'
import { createRedis } from '@gatehouse/server'
import {
  inProcessPressureLimits,
  postgresUrl,
  redisUrl,
  temporaryDirectory,
  uniqueEmail,
  uniqueIp,
} from '@gatehouse/testing'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp, migrationsFolder, schema } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'

export const publicUrl = 'http://localhost:3000'
export const strongPassword = 'correct horse battery staple'

export interface AuthTestApp {
  app: FastifyInstance
  db: Awaited<ReturnType<typeof connect<typeof schema>>>['db']
  close: () => Promise<void>
}

/**
 * A fresh auth app (a "replica"); several may share the same Postgres and Redis. With `embedded`,
 * it runs on its own PGlite database in a temporary directory instead (what `pnpm dev` runs on).
 */
export async function startAuthApp(
  env: Record<string, string> = {},
  options: {
    embedded?: boolean
    /** A database of the test's own instead of the shared test database. */
    databaseUrl?: string
    logStream?: NodeJS.WritableStream
    ssoChangesPerHour?: number
  } = {},
): Promise<AuthTestApp> {
  const config = loadConfig({ PUBLIC_URL: publicUrl, REDIS_URL: redisUrl, ...env })
  const dataDir = options.embedded ? temporaryDirectory() : undefined
  const database = await connect({
    url: dataDir ? undefined : (options.databaseUrl ?? postgresUrl),
    dataDir: dataDir?.path ?? config.dataDir,
    service: 'auth',
    migrationsFolder,
    schema,
  })
  const redis = createRedis(config.redisUrl)
  const app = await buildApp(config, {
    db: database.db,
    pingDatabase: () => database.ping(),
    redis,
    ssoChangesPerHour: options.ssoChangesPerHour,
    pressureLimits: inProcessPressureLimits,
    logger: options.logStream
      ? { level: 'info', stream: options.logStream }
      : env.DEBUG_LOG
        ? { level: 'error' }
        : undefined,
  })
  await app.ready()
  return {
    app,
    db: database.db,
    close: async () => {
      await app.close()
      redis.disconnect()
      await database.close()
      dataDir?.remove()
    },
  }
}

let sharedIdp: Promise<DevIdp> | undefined
/** One dev IdP (an RSA key pair made once per test process). */
export function devIdp(): Promise<DevIdp> {
  sharedIdp ??= generateSigningKeys().then((keys) => createDevIdp({ keys }))
  return sharedIdp
}

/** The `session` cookie a response sets, as a Cookie header value. */
export function sessionCookieOf(response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find((candidate) => candidate.name === 'session')
  return cookie?.value ? `session=${cookie.value}` : undefined
}

export async function signUp(
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
export async function startSpLogin(app: FastifyInstance, connection: ConnectionView, returnTo: string | null = '/') {
  const idp = await devIdp()
  const response = await app.inject({
    method: 'GET',
    url: `/sso/saml/${connection.id}/login${returnTo === null ? '' : `?returnTo=${encodeURIComponent(returnTo)}`}`,
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
  accept = 'application/json',
  // Each post from an address of its own unless told: refusals are limited per address.
  remoteAddress = uniqueIp(),
) {
  return app.inject({
    method: 'POST',
    url: `/sso/saml/${connectionId}/acs`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, accept },
    payload: new URLSearchParams(form).toString(),
    remoteAddress,
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
