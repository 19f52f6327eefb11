// The HTTP side of a service: the Fastify app every service starts from, the schemas its routes
// share, and the request guards (origin, route access, rate limits) and metrics it registers.
export {
  type App,
  type CreateAppOptions,
  createApp,
  gatewaySecretHeader,
  type PressureLimits,
  type ReadinessCheck,
} from './app.ts'
export type { CloseBackgroundPart } from './background-parts.ts'
export { closingConnectionsPlugin } from './closing-connections.ts'
export type { GaugeSample, Metrics, SampledGauge } from './metrics.ts'
export { originGuard } from './origin-guard.ts'
export {
  countAttempt,
  enforceLimits,
  type Limit,
  limitRefusal,
  networkOf,
  perEmailAndNetwork,
  perNetwork,
  type RateLimitRule,
  rateLimit,
} from './rate-limit.ts'
export { type DeclaredRoute, type RouteAccess, routeAccess } from './route-access.ts'
export { ErrorBody, ErrorRef, Uuid } from './schemas.ts'
