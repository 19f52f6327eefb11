// Builds the invitation app against the real Postgres and Redis, a stand-in of auth listening on
// a random port (the invitation service asks it who a session is; auth-contract.test.ts holds it
// to the real auth) and a real SMTP sink, and the steps tests share.
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { connect } from '@gatehouse/db'
import { copyInitializedPglite } from '@gatehouse/db/initialized-pglite'
import {
  type AuthEvent,
  authEventsStream,
  type InvitationAccepted,
  isInvitationEvent,
  publishToStream,
} from '@gatehouse/events'
import { createRedis } from '@gatehouse/server/redis'
import { inProcessPressureLimits, temporaryDirectory, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import type { FastifyInstance } from 'fastify'
import { testFileDatabase } from '../../../test/support/isolated-database.ts'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import { invitationTokenOf, isInvitationEmail, type SmtpSink, startSmtpSink } from '../../../test/support/smtp-sink.ts'
import { buildApp, migrationsFolder, schema } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { type AuthStandIn, type SignedInPerson, startAuthStandIn } from './auth-stand-in.ts'

export type { AuthStandIn, SignedInPerson }
export const publicUrl = 'http://localhost:3000'
export const internalToken = 'invitation-tests-internal-token-0123456789abcdef'
/**
 * One Redis database for the apps of this test process, one no other client has selected: their
 * consumers of `auth-events` and `invitation-events` take only this process's events.
 */
export const redisUrl = await unusedRedisDatabaseUrl()

/** A stand-in of auth, listening, that accepts `internalToken` and announces on this process's Redis. */
export function startAuth(): Promise<AuthStandIn> {
  return startAuthStandIn({ internalToken, redisUrl })
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
  // Not a test of PGlite's first start (connect.test.ts is): initdb's work is copied, the migrations run.
  if (dataDir) await copyInitializedPglite(join(dataDir.path, 'invitation'))
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
  auth: AuthStandIn
  invitation: InvitationTestApp
  sink: SmtpSink
}

/**
 * A stand-in of auth, an SMTP sink, and an invitation app that sends through it (on its own
 * embedded database with `embedded`); `close` stops all three.
 */
export async function startSetup(options: { embedded?: boolean } = {}): Promise<Setup & { close(): Promise<void> }> {
  const [auth, sink] = await Promise.all([startAuth(), startSmtpSink()])
  const invitation = await startInvitationApp({ authUrl: auth.url, smtpUrl: sink.url, embedded: options.embedded })
  return {
    auth,
    sink,
    invitation,
    async close() {
      await invitation.close()
      await auth.close()
      await sink.close()
    },
  }
}

/** An owner with a workspace, signed in. */
export function ownerWithWorkspace(auth: AuthStandIn, name = `Acme ${uniqueSuffix()}`) {
  const owner = auth.signUp()
  const workspace = auth.createWorkspace(owner, name)
  return { owner, workspace }
}

/**
 * Acme (with SSO) and a person who owns Beta and was invited into Acme, signed in through Acme's
 * IdP (`ssoCookie`) and with their password (`person.cookie`): what an attacker at Acme starts from.
 */
export function personInTwoWorkspaces(auth: AuthStandIn) {
  const acme = ownerWithWorkspace(auth)
  auth.turnOnSso(acme.workspace.id)
  const person = auth.signUp()
  const beta = auth.createWorkspace(person, 'Beta')
  auth.addMember(acme.workspace.id, person)
  const { cookie: ssoCookie } = auth.signInWithSso(person, acme.workspace.id)
  return { acme, person, beta, ssoCookie }
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

/**
 * What auth does once the invitation service has announced an acceptance: the event the
 * invitation's outbox holds for it (the one its relay sends to auth's queue) is applied by the
 * stand-in as auth's consumer applies it.
 */
export async function grantAccepted(
  { auth, invitation }: Pick<Setup, 'auth' | 'invitation'>,
  invitationId: string,
): Promise<InvitationAccepted> {
  const rows = await invitation.db.select().from(schema.outbox)
  const accepted = rows
    .map((row) => row.event)
    .filter(isInvitationEvent)
    .find(
      (event): event is InvitationAccepted =>
        event.type === 'invitation.accepted' && event.invitationId === invitationId,
    )
  if (!accepted) throw new Error(`no invitation.accepted event for ${invitationId}`)
  auth.grant(accepted)
  return accepted
}

/** Announces events as auth does, on the auth stream of this process's Redis database. */
export async function publishAuthEvents(events: AuthEvent[]): Promise<void> {
  const redis = createRedis(redisUrl, { role: 'waiting', name: 'auth-events-in-tests' })
  try {
    await publishToStream(redis, authEventsStream, events)
  } finally {
    redis.disconnect()
  }
}

export { invitationTokenOf, isInvitationEmail, type SmtpSink, startSmtpSink }
