export {
  type App,
  type CreateAppOptions,
  createApp,
  ErrorBody,
  ErrorRef,
  gatewaySecretHeader,
  type PressureLimits,
  type ReadinessCheck,
  Uuid,
} from './app.ts'
export { BoundedCache } from './bounded-cache.ts'
export {
  type BaseConfig,
  ConfigError,
  type Env,
  loadBaseConfig,
  type ProcessRole,
  readChoice,
  readCount,
  readDuration,
  readGatewaySecret,
  readMaxEventLoopDelay,
  readPort,
  readTrustProxy,
  readUrl,
  readUrlRequiredInProduction,
  runsWorkers,
  servesApi,
} from './config.ts'
export { isEmailAddress, normalizeEmail } from './email.ts'
export { AppError, defineError, errors } from './errors.ts'
export { failureFields, type OutageCode, outageCode } from './failures.ts'
export { escapeHtml } from './html.ts'
export {
  InvitationProofAnswer,
  InvitationProofRequest,
  internalJsonPoster,
  internalTokenCheck,
  parseInvitationProof,
} from './internal-calls.ts'
export { loggerOptions } from './logger.ts'
export { type GaugeSample, type Metrics, metricsPlugin, type SampledGauge } from './metrics.ts'
export { originGuard } from './origin-guard.ts'
export {
  countAttempt,
  enforceLimits,
  type Limit,
  networkOf,
  perEmailAndNetwork,
  perNetwork,
  type RateLimitRule,
  rateLimit,
} from './rate-limit.ts'
export {
  type CreateRedisOptions,
  closeRedis,
  createRedis,
  isRedisUnavailable,
  pingRedis,
  type RedisLog,
  RedisUnavailableError,
} from './redis.ts'
export {
  loginFailures,
  loginNetworks,
  publishedMarker,
  rateLimitKey,
  redisKeyPrefixes,
  revokedSessionsChannel,
  samlAssertionKey,
  samlConfirmation,
  samlTestSignIn,
} from './redis-keys.ts'
export { MAX_RETURN_TO_LENGTH, sameOriginPath } from './return-to.js'
export { type DeclaredRoute, type RouteAccess, routeAccess } from './route-access.ts'
export { runService, type ServiceDefinition, type ServiceDeps } from './run.ts'
export { createTokenSeal, type TokenSeal } from './sealed-token.ts'
export { type ServeOptions, serve, start } from './serve.ts'
export {
  Authentication,
  IntrospectionAnswer,
  IntrospectionRequest,
  parseIntrospectionAnswer,
  reauthenticationRequired,
  SessionMethod,
  SignIn,
} from './session-reach.ts'
export {
  parseRevokedSessions,
  publishRevokedSessions,
  sessionTokenHash,
  sessionTokenHashes,
} from './session-revocations.ts'
export { withTimeout } from './timeout.ts'
export {
  createWorkerPool,
  serveWorkerTasks,
  type WorkerPool,
  type WorkerPoolOptions,
} from './worker-pool.ts'
