import { type BaseConfig, type Env, loadBaseConfig } from '@gatehouse/server'

export type InvitationConfig = BaseConfig

export function loadConfig(env: Env = process.env): InvitationConfig {
  return loadBaseConfig(env, 'invitation', 3002)
}
