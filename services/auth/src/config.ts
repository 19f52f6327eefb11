import { isIP } from 'node:net'
import { type BaseConfig, ConfigError, type Env, loadBaseConfig, readCount } from '@gatehouse/server'

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
    ssoSignInLimits: {
      perMinute: readCount(env, 'SSO_SIGN_INS_PER_MINUTE', 10),
      perHour: readCount(env, 'SSO_SIGN_INS_PER_HOUR', 60),
    },
  }
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
