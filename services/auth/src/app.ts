import { fileURLToPath } from 'node:url'
import cookie from '@fastify/cookie'
import {
  consumeInvitationEvents,
  invitationEventsQueue,
  observeEventBacklog,
  startOutboxRelay,
} from '@gatehouse/events'
import { createApp, originGuard } from '@gatehouse/server/http'
import { publishRevokedSessions } from '@gatehouse/server/internal'
import { runsWorkers, servesApi } from '@gatehouse/server/process'
import { pingRedis } from '@gatehouse/server/redis'
import { createTokenSeal } from '@gatehouse/server/sealed-token'
import type { ServiceDeps } from '@gatehouse/server/service'
import { createInvitationProof } from './accounts/invitation-proof.ts'
import { createLinkIssuer } from './accounts/links.ts'
import { createLoginThrottle } from './accounts/login-throttle.ts'
import { createPasswordHasher, type PasswordHashCost } from './accounts/passwords.ts'
import { createRecoveryService } from './accounts/recovery.ts'
import { recoveryRoutes } from './accounts/recovery-routes.ts'
import { startResetRequests } from './accounts/reset-requests.ts'
import { accountRoutes } from './accounts/routes.ts'
import { createAccountService } from './accounts/service.ts'
import { auditInvitationChange } from './audit/invitations.ts'
import { auditRoutes } from './audit/routes.ts'
import { createAuditService } from './audit/service.ts'
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
import { setupLinkRoutes } from './setup-links/routes.ts'
import { createSetupLinkService } from './setup-links/service.ts'
import { startSignInHistoryProjection } from './sign-in-history/projection.ts'
import { signInHistoryRoutes } from './sign-in-history/routes.ts'
import { createSignInHistoryService } from './sign-in-history/service.ts'
import { createSignInMetrics } from './sign-in-metrics.ts'
import { ssoAdminRoutes } from './sso/admin-routes.ts'
import { type CertificateExpiryNotices, createCertificateExpiryNotices } from './sso/certificate-expiry.ts'
import { createConnectionCache, createConnectionService } from './sso/connections.ts'
import { discoverRoutes } from './sso/discover-routes.ts'
import { createIdpConfigParser } from './sso/idp-config-parser.ts'
import { createLoginFlow } from './sso/login-flow.ts'
import { createMetadataFetcher } from './sso/metadata-fetch.ts'
import { createMetadataRefresh, type MetadataRefresh } from './sso/metadata-refresh.ts'
import { createRefusalLimit } from './sso/refusal-limit.ts'
import { samlRoutes } from './sso/saml-routes.ts'
import { createSpKeyVault } from './sso/sp-keys.ts'
import { createTestSignIns } from './sso/test-sign-in.ts'
import { testSignInRoutes } from './sso/test-sign-in-routes.ts'
import { startSsoUpkeep } from './sso/upkeep.ts'
import { workspaceRoutes } from './workspaces/routes.ts'
import { createWorkspaceService } from './workspaces/service.ts'

export { schema }
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))
export type AuthDeps = ServiceDeps<typeof schema> & {
  /** How many SSO configuration changes one account, and one workspace, may make per hour (default 60). */
  ssoChangesPerHour?: number
  /** The clock of the SSO upkeep (certificate expiry notices, metadata checks) and of admin changes. */
  now?: () => Date
  /** The whole of one IdP metadata fetch, DNS included (default 10 s). */
  metadataFetchTimeoutMs?: number
  /** The BullMQ queue of the SSO upkeep (default `sso-upkeep`): tests give theirs their own. */
  ssoUpkeepQueue?: string
  /** argon2id's cost for new password hashes (default OWASP's: m=19 MiB, t=2). */
  passwordHashCost?: PasswordHashCost
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
  const seal = createTokenSeal(config.internalToken)
  const events = createAuthEvents({
    outbox: schema.outbox,
    wake: relay?.wake ?? (() => {}),
    seal,
    announceRevoked: (tokenHashes) => publishRevokedSessions(redis, tokenHashes, app.log),
  })
  const signIns = createSignInMetrics(app.metrics)
  const sessions = createSessionService({ db, secureCookies: publicUrl.protocol === 'https:' })
  const throttle = createLoginThrottle(redis)
  const links = createLinkIssuer({ events, seal, now: () => new Date() })
  const invitationProof = createInvitationProof({
    invitationUrl: config.invitationUrl,
    internalToken: config.internalToken,
  })
  const passwords = createPasswordHasher(deps.passwordHashCost)
  const accounts = createAccountService({ db, sessions, events, throttle, signIns, links, invitationProof, passwords })
  const memberships = createMembershipService({ db, events })
  const recovery = createRecoveryService({
    db,
    sessions,
    events,
    links,
    throttle,
    invitationProof,
    memberships,
    passwords,
  })
  const workspaces = createWorkspaceService({ db })
  const domains = createDomainService({ db, lookupTxt: createTxtLookup({ servers: config.dnsServers }) })
  const keys = createSpKeyVault(config.spKeySecret)
  const idpParser = createIdpConfigParser({ log: app.log })
  app.addHook('onClose', () => idpParser.close())
  const fetchMetadata = createMetadataFetcher({
    dnsServers: config.dnsServers,
    allowLoopbackHttp: config.metadataLoopbackHttp,
    timeoutMs: deps.metadataFetchTimeoutMs,
  })
  const now = deps.now
  const connections = createConnectionService({ db, publicUrl, keys, events, idpParser, fetchMetadata, passwords, now })
  const metadataRefresh = createMetadataRefresh({ db, publicUrl, events, fetchMetadata, idpParser, keys, now })
  const expiryNotices = createCertificateExpiryNotices({ db, events, now })
  const connectionCache = createConnectionCache({ db, publicUrl, keys })
  const testSignIns = createTestSignIns({ db, redis, connections: connectionCache })
  const loginFlow = createLoginFlow({
    db,
    redis,
    publicUrl,
    sessions,
    events,
    connections: connectionCache,
    refusals: createRefusalLimit(redis),
    signIns,
    testSignIns,
    signInLimits: config.ssoSignInLimits,
    log: app.log,
  })
  app.decorate('workspaces', workspaces)
  app.decorate('ssoUpkeep', { refreshMetadata: metadataRefresh.refresh, announceExpiries: expiryNotices.announceDue })

  if (runsWorkers(config.role)) {
    // invitation.accepted -> an SSO-allowed membership (CONTRACT.md's rule, part 3).
    // invitation.created/resent/revoked -> the workspace's audit trail (once per event id).
    const invitationConsumer = consumeInvitationEvents({ redisUrl: config.redisUrl, log: app.log }, async (event) => {
      if (event.type !== 'invitation.accepted') return auditInvitationChange(db, event)
      const outcome = await workspaces.grantMembershipFromInvitation(event)
      app.log.info({ eventId: event.id, invitationId: event.invitationId, outcome }, 'invitation.accepted applied')
    })
    app.addHook('onClose', () => invitationConsumer.close())
    // auth.login.* -> each workspace's sign-in history (a read model, through its own group).
    const signInProjection = startSignInHistoryProjection({ db, redisUrl: config.redisUrl, log: app.log })
    app.addHook('onClose', () => signInProjection.close())
    // IdP metadata URLs re-read every 12 h, certificate expiry notices checked hourly.
    const upkeep = startSsoUpkeep({
      db,
      redisUrl: config.redisUrl,
      log: app.log,
      refresh: metadataRefresh,
      expiry: expiryNotices,
      queue: deps.ssoUpkeepQueue,
      now,
    })
    app.addHook('onClose', () => upkeep.close())
    // auth.password.reset_requested -> a reset link, off the request path (accounts/recovery.ts).
    const resetRequests = await startResetRequests({ recovery, redisUrl: config.redisUrl, log: app.log })
    app.addHook('onClose', () => resetRequests.close())
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
  const setupLinks = createSetupLinkService({ db, events, publicUrl })
  await registerAccess(app, { sessions, workspaces, setupLinks, internalToken: config.internalToken })
  await app.register(accountRoutes, { accounts, sessions, workspaces, redis })
  await app.register(recoveryRoutes, { recovery, sessions, redis })
  await app.register(sessionRoutes, { accountSessions: createAccountSessions({ db, events }) })
  await app.register(workspaceRoutes, { workspaces })
  await app.register(membershipRoutes, { memberships })
  await app.register(ssoAdminRoutes, {
    connections,
    metadataRefresh,
    redis,
    changesPerHour: deps.ssoChangesPerHour ?? 60,
  })
  await app.register(signInHistoryRoutes, { signIns: createSignInHistoryService({ db }) })
  await app.register(auditRoutes, { audit: createAuditService({ db }) })
  await app.register(domainRoutes, { domains })
  await app.register(discoverRoutes, { domains, redis, publicUrl })
  await app.register(testSignInRoutes, {
    connections,
    loginFlow,
    testSignIns,
    redis,
    https: publicUrl.protocol === 'https:',
  })
  await app.register(setupLinkRoutes, {
    setupLinks,
    connections,
    loginFlow,
    testSignIns,
    redis,
    https: publicUrl.protocol === 'https:',
    changesPerHour: deps.ssoChangesPerHour ?? 60,
  })
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
    /** What the SSO upkeep's scheduled jobs run, for tests to drive with a pinned clock. */
    ssoUpkeep: {
      refreshMetadata: MetadataRefresh['refresh']
      announceExpiries: CertificateExpiryNotices['announceDue']
    }
  }
}
