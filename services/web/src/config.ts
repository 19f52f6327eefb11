import {
  type Env,
  readChoice,
  readGatewaySecret,
  readMaxEventLoopDelay,
  readPort,
  readTrustProxy,
  readUrl,
} from '@gatehouse/server/process'

/** The web app holds no secrets and no database: where it listens, and where auth and invitation answer. */
export interface WebConfig {
  service: 'web'
  production: boolean
  host: string
  port: number
  publicUrl: URL
  logLevel: string
  authUrl: URL
  invitationUrl: URL
  /** The load balancer or ingress in front of web, whose X-Forwarded-For names the client. */
  trustProxy: string | false
  /** `GATEWAY_SECRET`: sent with every request the gateway forwards (auth and invitation believe its X-Forwarded-For). */
  gatewaySecret: string | undefined
  /** `MAX_EVENT_LOOP_DELAY_MS`: event-loop delay past which requests get 503 (under-pressure). */
  maxEventLoopDelayMs: number
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function loadConfig(env: Env = process.env): WebConfig {
  return {
    service: 'web',
    production: env.NODE_ENV === 'production',
    host: env.HOST || '127.0.0.1',
    port: readPort(env, 'PORT', 3000),
    publicUrl: readUrl(env, 'PUBLIC_URL', 'http://localhost:3000', ['http:', 'https:']),
    logLevel: readChoice(env, 'LOG_LEVEL', 'info', logLevels),
    authUrl: readUrl(env, 'AUTH_URL', 'http://127.0.0.1:3001', ['http:', 'https:']),
    invitationUrl: readUrl(env, 'INVITATION_URL', 'http://127.0.0.1:3002', ['http:', 'https:']),
    trustProxy: readTrustProxy(env),
    gatewaySecret: readGatewaySecret(env),
    maxEventLoopDelayMs: readMaxEventLoopDelay(env),
  }
}
