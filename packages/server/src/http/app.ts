import { randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { getHeapStatistics } from 'node:v8'
import helmet from '@fastify/helmet'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { AppError, errors } from '../errors.ts'
import { failureFields, outageCode } from '../failures.ts'
import { withTimeout } from '../timeout.ts'
import { backgroundPartsPlugin } from './background-parts.ts'
import { closingConnectionsPlugin } from './closing-connections.ts'
import { metricsPlugin } from './metrics.ts'
import { compileSchemasOnFirstUse, type DeclaredSchema, schemaProblems } from './schema-compilers.ts'
import { ErrorBody } from './schemas.ts'

export type App = FastifyInstance & ReturnType<FastifyInstance['withTypeProvider']>

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route schema that does not compile, named (for tests: schemas compile on first use). */
    routeSchemaProblems: () => string[]
  }
}

const ajvOptions = { customOptions: { removeAdditional: 'all' as const, coerceTypes: false } }

/** A readiness check: resolves when the dependency answers, rejects with why it does not. */
export type ReadinessCheck = () => Promise<void>

export interface CreateAppOptions {
  service: string
  version?: string
  description?: string
  logger?: FastifyServerOptions['logger']
  /** The origin browsers use; over plain http the CSP does not ask browsers to upgrade to https. */
  publicUrl: URL
  /** Proxies whose X-Forwarded-For is believed (the web gateway); false: none. */
  trustProxy?: string | false
  /**
   * `GATEWAY_SECRET`: when set, a request's forwarding headers (X-Forwarded-For and kin) are
   * believed only if it carries this value in `x-gatehouse-gateway`, i.e. it came through the web
   * gateway; anyone else's are removed before Fastify reads the client's address. Needed where
   * `trustProxy`'s addresses are shared with other clients (every local program under `pnpm dev`).
   */
  gatewaySecret?: string | undefined
  /** Named dependencies `/readyz` asks, e.g. `{ database, redis }`. */
  readiness: Record<string, ReadinessCheck>
  /**
   * Whether an incoming `x-request-id` names the request: true for the services behind the web
   * gateway, which made the id; web, facing browsers, always makes its own (a client-chosen id
   * could forge or collide with another request's log lines).
   */
  trustRequestId?: boolean
  /** When the process answers 503 `service_unavailable` instead of taking more work. */
  pressureLimits?: PressureLimits
}

export interface PressureLimits {
  /** Event-loop delay past which requests are turned away (the ACS is CPU-bound). Default 1000 ms. */
  maxEventLoopDelayMs?: number
  /** Heap in use past which requests are turned away. Default 90% of V8's heap limit. */
  maxHeapUsedBytes?: number
  /** How often both are measured. Default 1000 ms, at least 100 ms. */
  sampleIntervalMs?: number
}

const readinessTimeoutMs = 2000

// Answer while overloaded: liveness must not get a busy pod restarted, and metrics are most
// wanted exactly then.
const pressureExemptRoutes = new Set(['/healthz', '/metrics'])

/** The header by which the web gateway shows it forwarded a request (`GATEWAY_SECRET`). */
export const gatewaySecretHeader = 'x-gatehouse-gateway'
const forwardingHeaders = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']

/**
 * The HTTP server's first request listener: it runs before Fastify builds the request (whose
 * `ip` reads X-Forwarded-For) and logs it. The secret never travels further than this.
 */
function believeForwardingOnlyFromGateway(app: FastifyInstance, secret: string) {
  const expected = Buffer.from(secret)
  app.server.prependListener('request', (request: IncomingMessage) => {
    const presented = request.headers[gatewaySecretHeader]
    delete request.headers[gatewaySecretHeader]
    const given = typeof presented === 'string' ? Buffer.from(presented) : undefined
    const fromGateway = given !== undefined && given.length === expected.length && timingSafeEqual(given, expected)
    if (!fromGateway) for (const name of forwardingHeaders) delete request.headers[name]
  })
}

/**
 * The Fastify instance every Gatehouse service starts from: typed routes (TypeBox), request
 * ids, security headers, OpenAPI at /docs, one error shape, and /healthz + /readyz.
 */
export async function createApp(options: CreateAppOptions) {
  const app = Fastify({
    logger: options.logger ?? false,
    genReqId: (request) => {
      const incoming = options.trustRequestId ? request.headers['x-request-id'] : undefined
      return typeof incoming === 'string' && /^[\w-]{8,64}$/.test(incoming) ? incoming : randomUUID()
    },
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000,
    ajv: ajvOptions,
    schemaController: compileSchemasOnFirstUse,
  }).withTypeProvider<TypeBoxTypeProvider>()

  const declaredSchemas: DeclaredSchema[] = []
  app.addHook('onRoute', function keepSchema(route) {
    if (route.schema && route.method !== 'HEAD') {
      const { method, url, schema } = route
      declaredSchemas.push({ method: String(method), url, schema, sharedSchemas: this.getSchemas() })
    }
  })
  app.decorate('routeSchemaProblems', () => schemaProblems(declaredSchemas, ajvOptions))

  if (options.gatewaySecret) believeForwardingOnlyFromGateway(app, options.gatewaySecret)
  app.addSchema(ErrorBody)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // JSON answers are about someone (a session, members, invitations, SSO settings): no shared
    // or browser cache may keep them (RFC 9111 5.2.2.5).
    if (
      !reply.hasHeader('cache-control') &&
      String(reply.getHeader('content-type') ?? '').startsWith('application/json')
    ) {
      reply.header('cache-control', 'no-store')
    }
  })
  // Postgres text cannot hold NUL, and neither text nor jsonb an unpaired surrogate: a body with
  // such a string anywhere is refused here, not halfway through a write with a 500.
  app.addHook('preValidation', async (request) => {
    if (holdsUnstorableText(request.body)) {
      throw errors.badRequest('Text may not contain NUL characters or unpaired surrogates.')
    }
  })

  await app.register(closingConnectionsPlugin)
  await app.register(metricsPlugin, { service: options.service })
  await app.register(backgroundPartsPlugin)
  const limits = options.pressureLimits ?? {}
  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs ?? 1000,
    maxHeapUsedBytes: limits.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    // Shorter intervals than a few times the delay monitor's 10 ms resolution can hold no sample,
    // which under-pressure reads as an infinite delay: everything would be turned away.
    sampleInterval: Math.max(limits.sampleIntervalMs ?? 1000, 100),
    pressureHandler: async (request, reply, type, value) => {
      if (pressureExemptRoutes.has(request.routeOptions.url ?? '')) return
      // An interval in which the delay monitor took no sample reads as an infinite delay: the
      // process was starved or blocked, and the next interval measures by how much.
      if (type === 'eventLoopDelay' && !Number.isFinite(value)) return
      request.log.warn({ pressure: type }, 'turned away under pressure')
      reply.header('retry-after', '10')
      throw errors.unavailable('This service is busy. Try again in a few seconds.')
    },
  })
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'form-action': ["'self'", 'https:', 'http:'],
        'frame-ancestors': ["'none'"],
        // Over plain-http development this would send every asset request to https://localhost.
        'upgrade-insecure-requests': options.publicUrl.protocol === 'https:' ? [] : null,
      },
    },
  })
  await app.register(swagger, {
    openapi: {
      info: {
        title: `Gatehouse ${options.service}`,
        version: options.version ?? '0.0.0',
        description: options.description ?? '',
      },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, error.message)
      reply.headers(error.headers)
      return reply.status(error.statusCode).send({ error: error.code, message: error.message, ...error.details })
    }
    if (error.validation) {
      return reply.status(400).send({
        error: 'bad_request',
        message: `Invalid request: ${error.message}`,
      })
    }
    // Postgres or Redis away (a restart, a failover): a moment's 503, one line with its code, no stack.
    const outage = outageCode(error)
    if (outage) {
      request.log.warn(
        failureFields(error),
        outage === 'redis_unavailable' ? 'redis unavailable' : 'database unavailable',
      )
      const unavailable = errors.unavailable()
      return reply.status(unavailable.statusCode).send({ error: unavailable.code, message: unavailable.message })
    }
    const status = error.statusCode ?? 500
    if (status < 500) {
      return reply.status(status).send({ error: clientErrorCode(error), message: error.message })
    }
    request.log.error({ err: error }, 'request failed')
    return reply.status(500).send({ error: 'internal_error', message: 'Something went wrong on our side.' })
  })

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send({ error: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` })
  })

  app.get('/healthz', { schema: { hide: true }, config: { access: 'public' } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) => {
    const names = Object.keys(options.readiness)
    // A dependency that does not answer within 2 s is as not-ready as one that refuses.
    const results = await Promise.allSettled(
      names.map((name) =>
        withTimeout(
          (options.readiness[name] as ReadinessCheck)(),
          readinessTimeoutMs,
          () => new Error(`did not answer within ${readinessTimeoutMs} ms`),
        ),
      ),
    )
    const failing = names.filter((_, index) => results[index]?.status === 'rejected')
    if (failing.length === 0) return { status: 'ready' }
    const reasons = failing.map((name) => {
      const result = results[names.indexOf(name)] as PromiseRejectedResult
      return `${name}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`
    })
    return reply.status(503).send({
      error: 'not_ready',
      message: `Not ready: ${reasons.join('; ')}`,
      failing,
    })
  })

  return app
}

function clientErrorCode(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type'
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large'
    default:
      return 'bad_request'
  }
}

/**
 * Whether any string in a parsed body (JSON or form: strings, arrays and plain objects) is
 * unstorable. Anything else — the raw stream a proxy route takes as its body — is not looked into.
 * Walked without recursion: bodies may nest deeply.
 */
function holdsUnstorableText(body: unknown): boolean {
  const pending: unknown[] = [body]
  while (pending.length > 0) {
    const value = pending.pop()
    if (typeof value === 'string') {
      if (value.includes('\u0000') || !value.isWellFormed()) return true
    } else if (Array.isArray(value)) {
      pending.push(...value)
    } else if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) pending.push(key, child)
    }
  }
  return false
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
