import { isIP } from 'node:net'
import { type BaseConfig, ConfigError, type Env, loadBaseConfig, readCount, readUrl } from '@gatehouse/server/process'

export interface AuthConfig extends BaseConfig {
  /**
   * `SP_KEY_SECRET`: seals the SP signing keys stored in the database (src/sso/sp-keys.ts). Its own
   * secret, not COOKIE_SECRET (rotated freely, and random per process in development) nor
   * INTERNAL_TOKEN (held by every service): losing or changing it makes the stored keys unusable.
   * Required in production; unset in development, keys are stored unsealed.
   */
  spKeySecret: string | null
  /**
   * `DNS_SERVERS`: the resolvers asked for domain claims' TXT records, e.g. `1.1.1.1,127.0.0.1:5353`;
   * empty means the system's (/etc/resolv.conf).
   */
  dnsServers: string[]
  /** `INVITATION_URL`: where auth asks the invitation service whether an invitation link is live. */
  invitationUrl: URL
  /**
   * `IDP_METADATA_LOOPBACK_HTTP`: metadata URLs may be plain http to a loopback address (the dev
   * IdP). Refused in production; by default on only when PUBLIC_URL is plain http on loopback.
   */
  metadataLoopbackHttp: boolean
  /**
   * Successful SSO sign-ins one account may make through one connection (`SSO_SIGN_INS_PER_MINUTE`,
   * default 10; `SSO_SIGN_INS_PER_HOUR`, default 60): each opens a session row, and a connection's
   * IdP can mint genuine responses at will (src/sso/login-flow.ts says where the numbers come from).
   */
  ssoSignInLimits: SsoSignInLimits
}

export interface SsoSignInLimits {
  perMinute: number
  perHour: number
}

export function loadConfig(env: Env = process.env): AuthConfig {
  const base = loadBaseConfig(env, 'auth', 3001)
  return {
    ...base,
    spKeySecret: readSpKeySecret(env, base.production),
    dnsServers: readDnsServers(env),
    metadataLoopbackHttp: readMetadataLoopbackHttp(env, base),
    invitationUrl: readUrl(env, 'INVITATION_URL', 'http://127.0.0.1:3002', ['http:', 'https:']),
    ssoSignInLimits: {
      perMinute: readCount(env, 'SSO_SIGN_INS_PER_MINUTE', 10),
      perHour: readCount(env, 'SSO_SIGN_INS_PER_HOUR', 60),
    },
  }
}

function readMetadataLoopbackHttp(env: Env, base: BaseConfig): boolean {
  const raw = env.IDP_METADATA_LOOPBACK_HTTP
  if (raw === undefined || raw === '') {
    return !base.production && base.publicUrl.protocol === 'http:' && isLoopbackHost(base.publicUrl.hostname)
  }
  if (raw !== 'true' && raw !== 'false') throw new ConfigError('IDP_METADATA_LOOPBACK_HTTP', 'must be true or false')
  if (raw === 'true' && base.production) {
    throw new ConfigError('IDP_METADATA_LOOPBACK_HTTP', 'cannot be true when NODE_ENV=production')
  }
  return raw === 'true'
}

function isLoopbackHost(hostname: string): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(hostname)
}

function readDnsServers(env: Env): string[] {
  const servers = (env.DNS_SERVERS ?? '')
    .split(',')
    .map((server) => server.trim())
    .filter(Boolean)
  for (const server of servers) {
    // An address, with an optional port: `1.1.1.1`, `127.0.0.1:5353`, `::1`, `[::1]:5353`.
    const address = server.match(/^\[(.+)\]:\d{1,5}$/)?.[1] ?? server.match(/^([^:]+):\d{1,5}$/)?.[1] ?? server
    if (!isIP(address)) throw new ConfigError('DNS_SERVERS', `"${server}" is not an IP address with an optional port`)
  }
  return servers
}

function readSpKeySecret(env: Env, production: boolean): string | null {
  const raw = env.SP_KEY_SECRET
  if (raw) {
    if (raw.length < 32) throw new ConfigError('SP_KEY_SECRET', 'must be at least 32 characters')
    return raw
  }
  if (production) throw new ConfigError('SP_KEY_SECRET', 'is required when NODE_ENV=production')
  return null
}
