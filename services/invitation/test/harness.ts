// Builds the invitation app against the real Postgres and Redis, a real auth app listening on a
// random port (the invitation service asks it who a session is) and a real SMTP sink, and the
// steps tests share, each through the public HTTP APIs.
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import {
  type AuthTestApp,
  createWorkspace,
  personInTwoWorkspaces,
  signUp,
  signUpUnproven,
  startAuthApp,
} from '@gatehouse/auth/test/harness.ts'
import { connect } from '@gatehouse/db'
import { createRedis } from '@gatehouse/server'
import { eventually, inProcessPressureLimits, temporaryDirectory, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import type { FastifyInstance } from 'fastify'
import { createIsolatedDatabase, testFileDatabase } from '../../../test/support/isolated-database.ts'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import { invitationTokenOf, isInvitationEmail, type SmtpSink, startSmtpSink } from '../../../test/support/smtp-sink.ts'
import { buildApp, migrationsFolder, schema } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'

export { createWorkspace, personInTwoWorkspaces, signUp, signUpUnproven }
export const publicUrl = 'http://localhost:3000'
export const internalToken = 'invitation-tests-internal-token-0123456789abcdef'
/**
 * One Redis database for the auth and invitation apps of this test process, one no other client
 * has selected: their consumers of `auth-events` and `invitation-events` take only this process's
 * events (another test file's owner notice would otherwise be mailed by this one's app).
 */
const redisUrl = await unusedRedisDatabaseUrl()

export interface AuthServer extends AuthTestApp {
  url: string
}

/** A real auth app, listening, that accepts `internalToken`. */
export async function startAuthServer(databaseUrl?: string): Promise<AuthServer> {
  const auth = await startAuthApp({ INTERNAL_TOKEN: internalToken, REDIS_URL: redisUrl }, { databaseUrl })
  await auth.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = auth.app.server.address() as AddressInfo
  return { ...auth, url: `http://127.0.0.1:${port}` }
}

/** Another auth replica on this process's Redis database (its own clock, for the SSO upkeep). */
export function startAuthReplica(options: Parameters<typeof startAuthApp>[1] = {}): Promise<AuthTestApp> {
  return startAuthApp({ INTERNAL_TOKEN: internalToken, REDIS_URL: redisUrl }, options)
}

export interface InvitationTestApp {
  app: FastifyInstance
  db: Awaited<ReturnType<typeof connect<typeof schema>>>['db']
  /** Moves the app's clock (what invitations expire by) forward. */
  advanceClock(milliseconds: number): void
  /** Every log line the app wrote, as text. */
  logs(): string
  close(): Promise<void>
}

/**
 * An invitation app with its own email queue, so that its messages leave through `smtpUrl` even
 * while other apps share the database and Redis. With `embedded`, it runs on its own PGlite
 * database in a temporary directory (what `pnpm dev` runs on).
 */
export async function startInvitationApp(options: {
  authUrl: string
  smtpUrl?: string
  env?: Record<string, string>
  embedded?: boolean
  /** A database of the test's own instead of the one its file shares (testFileDatabase). */
  databaseUrl?: string
}): Promise<InvitationTestApp> {
  const config = loadConfig({
    PUBLIC_URL: publicUrl,
    REDIS_URL: redisUrl,
    INTERNAL_TOKEN: internalToken,
    AUTH_URL: options.authUrl,
    MAIL_QUEUE: `invitation-emails-test-${uniqueSuffix()}`,
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    ...options.env,
  })
  const dataDir = options.embedded ? temporaryDirectory() : undefined
  const database = await connect({
    url: dataDir ? undefined : (options.databaseUrl ?? (await testFileDatabase()).url),
    dataDir: dataDir?.path ?? config.dataDir,
    service: 'invitation',
    migrationsFolder,
    schema,
  })
  const redis = createRedis(config.redisUrl)
  let logText = ''
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk
      done()
    },
  })
  let clockOffsetMs = 0
  const app = await buildApp(config, {
    db: database.db,
    pingDatabase: () => database.ping(),
    redis,
    logger: { level: 'info', stream: logStream },
    now: () => new Date(Date.now() + clockOffsetMs),
    pressureLimits: inProcessPressureLimits,
  })
  await app.ready()
  return {
    app,
    db: database.db,
    advanceClock(milliseconds) {
      clockOffsetMs += milliseconds
    },
    logs: () => logText,
    close: async () => {
      await app.close()
      redis.disconnect()
      await database.close()
      dataDir?.remove()
    },
  }
}

export interface Setup {
  auth: AuthServer
  invitation: InvitationTestApp
  sink: SmtpSink
}

/**
 * A real auth server, an SMTP sink, and an invitation app that sends through it; `close` stops all
 * three, on the database of the test file (see isolated-database.ts), or with `isolated` on one of
 * the setup's own (`databaseUrl`), apart from the file's other setups.
 */
export async function startSetup(
  options: { embedded?: boolean; isolated?: boolean } = {},
): Promise<Setup & { databaseUrl?: string; close(): Promise<void> }> {
  const database = options.isolated ? await createIsolatedDatabase({ migrated: true }) : undefined
  const [auth, sink] = await Promise.all([startAuthServer(database?.url), startSmtpSink()])
  const invitation = await startInvitationApp({
    authUrl: auth.url,
    smtpUrl: sink.url,
    embedded: options.embedded,
    databaseUrl: database?.url,
  })
  return {
    auth,
    sink,
    invitation,
    ...(database ? { databaseUrl: database.url } : {}),
    async close() {
      await invitation.close()
      await auth.close()
      await sink.close()
      await database?.drop()
    },
  }
}

/** An owner with a workspace, signed in. */
export async function ownerWithWorkspace(auth: AuthServer, name = `Acme ${uniqueSuffix()}`) {
  const owner = await signUp(auth.app)
  const workspace = await createWorkspace(auth.app, owner.cookie, name)
  return { owner, workspace }
}

export function invite(
  invitation: InvitationTestApp,
  cookie: string,
  body: { workspaceId: string; email: string; role?: 'member' | 'admin' },
) {
  return invitation.app.inject({
    method: 'POST',
    url: '/v1/invitations',
    headers: { cookie },
    payload: { role: 'member', ...body },
  })
}

/** Invites `email` and returns the invitation and the token from the email that arrived. */
export async function inviteAndReceive(
  { invitation, sink }: Pick<Setup, 'invitation' | 'sink'>,
  cookie: string,
  workspaceId: string,
  email = uniqueEmail('invitee'),
  role: 'member' | 'admin' = 'member',
) {
  const earlier = new Set(sink.received)
  const response = await invite(invitation, cookie, { workspaceId, email, role })
  if (response.statusCode !== 201) throw new Error(`invite failed: ${response.statusCode} ${response.body}`)
  const received = await sink.waitFor(
    (mail) => !earlier.has(mail) && mail.envelopeTo.includes(email) && isInvitationEmail(mail),
  )
  return {
    email,
    invitation: response.json().invitation as InvitationView,
    received,
    token: invitationTokenOf(received),
  }
}

export interface InvitationView {
  id: string
  workspaceId: string
  email: string
  role: string
  status: string
  invitedBy: string
  createdAt: string
  expiresAt: string
  acceptedAt?: string
}

export function accept(invitation: InvitationTestApp, token: string, cookie?: string) {
  return invitation.app.inject({
    method: 'POST',
    url: '/v1/invitations/accept',
    headers: cookie ? { cookie } : {},
    payload: { token },
  })
}

export function lookup(invitation: InvitationTestApp, token: string) {
  return invitation.app.inject({ method: 'POST', url: '/v1/invitations/lookup', payload: { token } })
}

export interface Membership {
  workspaceId: string
  workspaceName: string
  role: string
  ssoAllowed: boolean
}

/** Polls auth until the session's memberships satisfy `done` (bounded: 10 s). */
export async function waitForMemberships(
  auth: AuthServer,
  cookie: string,
  done: (memberships: Membership[]) => boolean,
): Promise<Membership[]> {
  let latest: Membership[] = []
  return eventually(
    'the memberships to match',
    async () => {
      const response = await auth.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } })
      latest = response.json().memberships as Membership[]
      return done(latest) ? latest : undefined
    },
    { timeoutMs: 10_000, intervalMs: 25, describe: () => JSON.stringify(latest) },
  )
}

export { invitationTokenOf, isInvitationEmail, type SmtpSink, startSmtpSink }
