import { fileURLToPath } from 'node:url'
import cookie from '@fastify/cookie'
import {
  consumeInvitationEvents,
  invitationEventsQueue,
  observeEventBacklog,
  startOutboxRelay,
} from '@gatehouse/events'
import {
  createApp,
  originGuard,
  pingRedis,
  publishRevokedSessions,
  runsWorkers,
  type ServiceDeps,
  servesApi,
} from '@gatehouse/server'
import { createLoginThrottle } from './accounts/login-throttle.ts'
import { accountRoutes } from './accounts/routes.ts'
import { createAccountService } from './accounts/service.ts'
import type { AuthConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { createTxtLookup } from './domains/dns.ts'
import { domainRoutes } from './domains/routes.ts'
import { createDomainService } from './domains/service.ts'
import { createAuthEvents } from './events.ts'
import { internalRoutes } from './internal/routes.ts'
import { membershipRoutes } from './memberships/routes.ts'
import { createMembershipService } from './memberships/service.ts'
import { registerAccess } from './sessions/access.ts'
import { createAccountSessions } from './sessions/account-sessions.ts'
import { createIntrospection } from './sessions/introspection.ts'
import { sessionRoutes } from './sessions/routes.ts'
import { createSessionService } from './sessions/service.ts'
import { startSignInHistoryProjection } from './sign-in-history/projection.ts'
import { signInHistoryRoutes } from './sign-in-history/routes.ts'
import { createSignInHistoryService } from './sign-in-history/service.ts'
import { createSignInMetrics } from './sign-in-metrics.ts'
import { ssoAdminRoutes } from './sso/admin-routes.ts'
import { createConnectionCache, createConnectionService } from './sso/connections.ts'
import { discoverRoutes } from './sso/discover-routes.ts'
import { createIdpConfigParser } from './sso/idp-config-parser.ts'
import { createLoginFlow } from './sso/login-flow.ts'
import { createRefusalLimit } from './sso/refusal-limit.ts'
import { samlRoutes } from './sso/saml-routes.ts'
import { createSpKeyVault } from './sso/sp-keys.ts'
import { workspaceRoutes } from './workspaces/routes.ts'
import { createWorkspaceService } from './workspaces/service.ts'

export { schema }
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))
export type AuthDeps = ServiceDeps<typeof schema> & {
  /** How many SSO configuration changes one account, and one workspace, may make per hour (default 60). */
  ssoChangesPerHour?: number
}

/** The auth service as a Fastify instance; never listens (server.ts does). */
export async function buildApp(config: AuthConfig, deps: AuthDeps) {
  const app = await createApp({
    service: config.service,
    description: 'Users, sessions, workspaces, SSO connections and the SAML endpoints.',
    logger: deps.logger,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    gatewaySecret: config.gatewaySecret,
    readiness: { database: deps.pingDatabase, redis: () => pingRedis(deps.redis) },
    pressureLimits: { maxEventLoopDelayMs: config.maxEventLoopDelayMs, ...deps.pressureLimits },
    // Requests reach auth through the web gateway, which names them.
    trustRequestId: true,
  })

  const { db, redis } = deps
  const publicUrl = config.publicUrl
  const backlog = observeEventBacklog(app.metrics, {
    db,
    outbox: schema.outbox,
    redis,
    queues: [invitationEventsQueue],
  })
  app.addHook('onClose', () => backlog.close())
  const relay = runsWorkers(config.role)
    ? startOutboxRelay({
        db,
        table: schema.outbox,
        redisUrl: config.redisUrl,
        log: app.log,
        onPublishError: backlog.publishFailed,
      })
    : undefined
  if (relay) app.addHook('onClose', () => relay.stop())

  // An API-only process leaves its events to the worker processes' relays (their next poll).
  const events = createAuthEvents({
    outbox: schema.outbox,
    wake: relay?.wake ?? (() => {}),
    internalToken: config.internalToken,
    announceRevoked: (tokenHashes) => publishRevokedSessions(redis, tokenHashes, app.log),
  })
  const signIns = createSignInMetrics(app.metrics)
  const sessions = createSessionService({ db, secureCookies: publicUrl.protocol === 'https:' })
  const accounts = createAccountService({ db, sessions, events, throttle: createLoginThrottle(redis), signIns })
  const workspaces = createWorkspaceService({ db })
  const memberships = createMembershipService({ db, events })
  const domains = createDomainService({ db, lookupTxt: createTxtLookup({ servers: config.dnsServers }) })
  const keys = createSpKeyVault(config.spKeySecret)
  const idpParser = createIdpConfigParser({ log: app.log })
  app.addHook('onClose', () => idpParser.close())
  const connections = createConnectionService({ db, publicUrl, keys, events, idpParser })
  const connectionCache = createConnectionCache({ db, publicUrl, keys })
  const loginFlow = createLoginFlow({
    db,
    redis,
    publicUrl,
    sessions,
    events,
    connections: connectionCache,
    refusals: createRefusalLimit(redis),
    signIns,
    signInLimits: config.ssoSignInLimits,
    log: app.log,
  })
  app.decorate('workspaces', workspaces)

  if (runsWorkers(config.role)) {
    // invitation.accepted -> an SSO-allowed membership (CONTRACT.md's rule, part 3).
    const invitationConsumer = consumeInvitationEvents({ redisUrl: config.redisUrl, log: app.log }, async (event) => {
      if (event.type !== 'invitation.accepted') return
      const outcome = await workspaces.grantMembershipFromInvitation(event)
      app.log.info({ eventId: event.id, invitationId: event.invitationId, outcome }, 'invitation.accepted applied')
    })
    app.addHook('onClose', () => invitationConsumer.close())
    // auth.login.* -> each workspace's sign-in history (a read model, through its own group).
    const signInProjection = startSignInHistoryProjection({ db, redisUrl: config.redisUrl, log: app.log })
    app.addHook('onClose', () => signInProjection.close())
  }
  if (!servesApi(config.role)) return app

  await app.register(cookie, { secret: config.cookieSecret })
  await app.register(originGuard, {
    publicOrigin: publicUrl.origin,
    // The IdP's form posts to the ACS cross-site by design; nothing else of /sso is exempt (the
    // confirmation of an unsolicited sign-in must come from our own page).
    exempt: (url) => /^\/sso\/saml\/[^/?]+\/acs(?:\?|$)/.test(url) || url.startsWith('/internal/'),
  })
  // Default-deny: every route below declares what it needs (config.access), enforced in one hook.
  await registerAccess(app, { sessions, workspaces, internalToken: config.internalToken })
  await app.register(accountRoutes, { accounts, sessions, workspaces, redis })
  await app.register(sessionRoutes, { accountSessions: createAccountSessions({ db, events }) })
  await app.register(workspaceRoutes, { workspaces })
  await app.register(membershipRoutes, { memberships })
  await app.register(ssoAdminRoutes, { connections, redis, changesPerHour: deps.ssoChangesPerHour ?? 60 })
  await app.register(signInHistoryRoutes, { signIns: createSignInHistoryService({ db }) })
  await app.register(domainRoutes, { domains })
  await app.register(discoverRoutes, { domains, redis, publicUrl })
  await app.register(samlRoutes, { connections: connectionCache, publicUrl, loginFlow, sessions, redis })
  await app.register(internalRoutes, {
    introspect: createIntrospection({ db, sessions }),
    sessions,
    workspaces,
    memberships,
  })
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Workspace logic (including `grantMembershipFromInvitation`), for tests to drive directly. */
    workspaces: ReturnType<typeof createWorkspaceService>
  }
}
