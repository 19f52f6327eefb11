import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import cookie from '@fastify/cookie'
import { observeEventBacklog, startOutboxRelay } from '@gatehouse/events'
import { createApp, originGuard, routeAccess } from '@gatehouse/server/http'
import { internalTokenCheck } from '@gatehouse/server/internal'
import { runsWorkers, servesApi } from '@gatehouse/server/process'
import { pingRedis } from '@gatehouse/server/redis'
import { createTokenSeal } from '@gatehouse/server/sealed-token'
import type { ServiceDeps } from '@gatehouse/server/service'
import type { InvitationConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { startAccountNotices } from './emails/account-notices.ts'
import { startEmailDelivery } from './emails/delivery.ts'
import { startSsoChangeNotices } from './emails/sso-change-notices.ts'
import { createMailTransport } from './emails/transport.ts'
import { createInvitationMailLimits } from './invitations/mail-limits.ts'
import { startMembershipRemovals } from './invitations/membership-removals.ts'
import { invitationRoutes } from './invitations/routes.ts'
import { createInvitationService } from './invitations/service.ts'
import { createAuthClient, passwordReauthentication } from './sessions/auth-client.ts'

export { schema }
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))
export type InvitationDeps = ServiceDeps<typeof schema> & {
  /** The clock invitations expire by (tests move it). */
  now?: () => Date
}

/** The invitation service as a Fastify instance; never listens (server.ts does). */
export async function buildApp(config: InvitationConfig, deps: InvitationDeps) {
  const app = await createApp({
    service: config.service,
    description: 'Invitations into workspaces and their emails.',
    logger: deps.logger,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    gatewaySecret: config.gatewaySecret,
    readiness: { database: deps.pingDatabase, redis: () => pingRedis(deps.redis) },
    pressureLimits: { maxEventLoopDelayMs: config.maxEventLoopDelayMs, ...deps.pressureLimits },
    // Requests reach invitation through the web gateway, which names them.
    trustRequestId: true,
  })
  const now = deps.now ?? (() => new Date())

  const backlog = observeEventBacklog(app.metrics, {
    db: deps.db,
    outbox: schema.outbox,
    redis: deps.redis,
    queues: [config.mailQueue],
  })
  app.addHook('onClose', () => backlog.close())

  // The relay, the email sender and the SSO change notices run in worker processes; an API-only
  // process leaves what it commits to their next poll.
  let wakeEvents = () => {}
  let wakeEmails = () => {}
  if (runsWorkers(config.role)) {
    const relay = startOutboxRelay({
      db: deps.db,
      table: schema.outbox,
      redisUrl: config.redisUrl,
      log: app.log,
      onPublishError: backlog.publishFailed,
    })
    app.addHook('onClose', () => relay.stop())
    const transport = createMailTransport({
      smtpUrl: config.smtpUrl,
      from: config.mailFrom,
      mailDirectory: join(config.dataDir, 'mail'),
      // Development without SMTP (CONTRACT.md): the link is how the developer follows the invitation.
      logLink: config.production
        ? undefined
        : ({ emailId, to, link }) => app.log.info({ emailId, to, link }, 'invitation email written to a file'),
    })
    const emailDelivery = startEmailDelivery({
      db: deps.db,
      redisUrl: config.redisUrl,
      queue: config.mailQueue,
      transport,
      log: app.log,
      now,
    })
    app.addHook('onClose', () => emailDelivery.stop())
    // Mailed links travel sealed in auth's events; only the services holding INTERNAL_TOKEN open them.
    const seal = createTokenSeal(config.internalToken)
    // Owners hear of every change to who their workspace's IdP is (auth's sso.connection.changed).
    const ssoNotices = await startSsoChangeNotices({
      db: deps.db,
      redisUrl: config.redisUrl,
      publicUrl: config.publicUrl,
      mailQueue: config.mailQueue,
      seal,
      wakeEmails: emailDelivery.wake,
      log: app.log,
      now,
    })
    app.addHook('onClose', () => ssoNotices.close())
    // People hear of their own account: confirmation and reset links, and every password change.
    const accountNotices = await startAccountNotices({
      db: deps.db,
      redisUrl: config.redisUrl,
      publicUrl: config.publicUrl,
      mailQueue: config.mailQueue,
      wakeEmails: emailDelivery.wake,
      seal,
      log: app.log,
      now,
    })
    app.addHook('onClose', () => accountNotices.close())
    // Invitations stay true to memberships auth removes; the removed person is told.
    const removals = await startMembershipRemovals({
      db: deps.db,
      outbox: schema.outbox,
      wakeEvents: relay.wake,
      redisUrl: config.redisUrl,
      publicUrl: config.publicUrl,
      mailQueue: config.mailQueue,
      wakeEmails: emailDelivery.wake,
      log: app.log,
    })
    app.addHook('onClose', () => removals.close())
    wakeEvents = relay.wake
    wakeEmails = emailDelivery.wake
  }
  if (!servesApi(config.role)) return app

  const auth = createAuthClient({ authUrl: config.authUrl, internalToken: config.internalToken })
  const revocations = auth.listenForRevocations(config.redisUrl, app.log)
  app.addHook('onClose', () => revocations.close())
  const invitations = createInvitationService({
    db: deps.db,
    outbox: schema.outbox,
    publicUrl: config.publicUrl,
    ttlSeconds: config.invitationTtlSeconds,
    mailQueue: config.mailQueue,
    wakeEvents,
    wakeEmails,
    now,
    limitMail: createInvitationMailLimits({ redis: deps.redis, log: app.log, now, mailsPerDay: config.mailsPerDay }),
  })

  await app.register(cookie)
  await app.register(originGuard, { publicOrigin: config.publicUrl.origin })
  const checkInternalToken = internalTokenCheck(config.internalToken)
  // Default-deny: every route declares what it needs. A password sign-in is checked here; a
  // workspace's reach is auth's answer about the workspace the body, query or invitation names,
  // which the service asks for before anything else (invitations/service.ts requireAdmin).
  await app.register(routeAccess, {
    async enforce(request, access) {
      if (access === 'public') return
      if (access === 'internal') return checkInternalToken(request)
      const answer = await auth.require(request)
      if (access === 'password' && !answer.account) throw passwordReauthentication()
    },
  })
  await app.register(invitationRoutes, { invitations, auth, now, redis: deps.redis })
  return app
}
