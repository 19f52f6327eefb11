import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'

/** A configuration value that cannot be used; start-up stops with this one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`)
  }
}

export type Env = Record<string, string | undefined>

/** What every service reads from the environment (CONTRACT.md, "Configuration"). */
export interface BaseConfig {
  service: string
  production: boolean
  host: string
  port: number
  publicUrl: URL
  databaseUrl: string | undefined
  redisUrl: string
  dataDir: string
  logLevel: string
  cookieSecret: string
  internalToken: string
  /** Which proxies' X-Forwarded-For to believe (Fastify `trustProxy`): e.g. the web gateway's address. */
  trustProxy: string | false
  /** `GATEWAY_SECRET`: when set, forwarding headers are believed only on requests carrying it (see createApp). */
  gatewaySecret: string | undefined
  /** `ROLE`: what this process does — serve the API, run the background workers, or both. */
  role: ProcessRole
  /** `MAX_EVENT_LOOP_DELAY_MS`: event-loop delay past which requests get 503 (under-pressure). */
  maxEventLoopDelayMs: number
}

/**
 * `api` serves the routes and runs no background loop; `worker` runs the outbox relay, the queue
 * consumers, the email sender and the schedulers, and answers only /healthz, /readyz and /metrics;
 * `all` (the default, and `pnpm dev`'s) does both. A deployment scales the two apart. `api` and
 * `worker` wait for the database migrations, which `all` applies at start and `migrate` applies
 * and exits (a deployment's job before its rollout).
 */
export type ProcessRole = 'api' | 'worker' | 'all' | 'migrate'

export const servesApi = (role: ProcessRole): boolean => role !== 'worker'
export const runsWorkers = (role: ProcessRole): boolean => role !== 'api'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function loadBaseConfig(env: Env, service: string, defaultPort: number): BaseConfig {
  const production = env.NODE_ENV === 'production'
  return {
    service,
    production,
    host: env.HOST || '127.0.0.1',
    port: readPort(env, 'PORT', defaultPort),
    publicUrl: readUrl(env, 'PUBLIC_URL', 'http://localhost:3000', ['http:', 'https:']),
    // Without it, an embedded database under DATA_DIR: fine on a laptop, data lost with a container.
    databaseUrl: readUrlRequiredInProduction(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], production)?.href,
    redisUrl: readUrl(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']).href,
    dataDir: resolve(env.DATA_DIR || './.data'),
    logLevel: readChoice(env, 'LOG_LEVEL', 'info', logLevels),
    cookieSecret: readSecret(env, 'COOKIE_SECRET', production),
    internalToken: readSecret(env, 'INTERNAL_TOKEN', production),
    trustProxy: readTrustProxy(env),
    gatewaySecret: readGatewaySecret(env),
    role: readChoice(env, 'ROLE', 'all', ['api', 'worker', 'all', 'migrate']) as ProcessRole,
    maxEventLoopDelayMs: readMaxEventLoopDelay(env),
  }
}

/** `MAX_EVENT_LOOP_DELAY_MS` (default 1000): past it a process turns requests away with 503. */
export function readMaxEventLoopDelay(env: Env): number {
  const raw = env.MAX_EVENT_LOOP_DELAY_MS
  if (raw === undefined || raw === '') return 1000
  const milliseconds = Number(raw)
  if (!Number.isInteger(milliseconds) || milliseconds < 10) {
    throw new ConfigError('MAX_EVENT_LOOP_DELAY_MS', `"${raw}" is not a whole number of milliseconds (10 or more)`)
  }
  return milliseconds
}

export function readPort(env: Env, variable: string, fallback: number): number {
  const raw = env[variable]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(variable, `"${raw}" is not a port number (0-65535)`)
  }
  return port
}

export function readUrl(env: Env, variable: string, fallback: string, protocols: string[]): URL {
  const raw = env[variable] || fallback
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(variable, `"${raw}" is not a URL`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(variable, `must start with ${protocols.join(' or ')}//`)
  }
  return url
}

export function readChoice(env: Env, variable: string, fallback: string, choices: string[]): string {
  const raw = env[variable] || fallback
  if (!choices.includes(raw)) throw new ConfigError(variable, `"${raw}" is not one of ${choices.join(', ')}`)
  return raw
}

/** A positive whole number (a limit's count), or `fallback` when unset. */
export function readCount(env: Env, variable: string, fallback: number): number {
  const raw = env[variable]
  if (!raw) return fallback
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1)
    throw new ConfigError(variable, `"${raw}" is not a positive whole number`)
  return Number(raw)
}

export function readDuration(env: Env, variable: string, fallbackSeconds: number): number {
  const raw = env[variable]
  if (raw === undefined || raw === '') return fallbackSeconds
  const seconds = Number(raw)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new ConfigError(variable, `"${raw}" is not a positive number of seconds`)
  return seconds
}

/**
 * A URL whose absence development fills with a local stand-in (embedded database, mail files) and
 * production refuses, as it does a missing secret.
 */
export function readUrlRequiredInProduction(
  env: Env,
  variable: string,
  protocols: string[],
  production: boolean,
): URL | undefined {
  if (env[variable]) return readUrl(env, variable, '', protocols)
  if (production) throw requiredInProduction(variable)
  return undefined
}

// Addresses or ranges as proxy-addr understands them ("loopback", "10.0.0.0/8", "127.0.0.1,::1").
// Unset: the socket's address is the client's, and X-Forwarded-For is ignored.
export function readTrustProxy(env: Env): string | false {
  const raw = env.TRUST_PROXY?.trim()
  if (!raw) return false
  if (!/^[\w.:/,\s-]+$/.test(raw)) throw new ConfigError('TRUST_PROXY', `"${raw}" is not a list of addresses or ranges`)
  return raw
}

/**
 * `GATEWAY_SECRET`: the value the web gateway adds to each request it forwards. Optional (a
 * deployment's network policy may already let only the gateway reach the services); where
 * several local programs share loopback, as under `pnpm dev`, it is what tells the gateway apart.
 */
export function readGatewaySecret(env: Env): string | undefined {
  const raw = env.GATEWAY_SECRET
  if (!raw) return undefined
  if (raw.length < 32 || raw.length > 256 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError('GATEWAY_SECRET', 'must be 32 to 256 printable characters without spaces')
  }
  return raw
}

// In development a missing secret is made up per process; in production it must be given.
function readSecret(env: Env, variable: string, production: boolean): string {
  const raw = env[variable]
  if (raw) {
    if (raw.length < 32) throw new ConfigError(variable, 'must be at least 32 characters')
    return raw
  }
  if (production) throw requiredInProduction(variable)
  return randomBytes(32).toString('base64url')
}

function requiredInProduction(variable: string): ConfigError {
  return new ConfigError(variable, 'is required when NODE_ENV=production')
}
