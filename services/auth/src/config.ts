import { type BaseConfig, type Env, loadBaseConfig } from '@gatehouse/server'

export type AuthConfig = BaseConfig

export function loadConfig(env: Env = process.env): AuthConfig {
  return loadBaseConfig(env, 'auth', 3001)
}
