import { type BaseConfig, ConfigError, type Env, loadBaseConfig } from '@gatehouse/server'

export interface AuthConfig extends BaseConfig {
  /**
   * `SP_KEY_SECRET`: seals the SP signing keys stored in the database (src/sso/sp-keys.ts). Its own
   * secret, not COOKIE_SECRET (rotated freely, and random per process in development) nor
   * INTERNAL_TOKEN (held by every service): losing or changing it makes the stored keys unusable.
   * Required in production; unset in development, keys are stored unsealed.
   */
  spKeySecret: string | null
}

export function loadConfig(env: Env = process.env): AuthConfig {
  const base = loadBaseConfig(env, 'auth', 3001)
  return { ...base, spKeySecret: readSpKeySecret(env, base.production) }
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
