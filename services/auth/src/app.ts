import { fileURLToPath } from 'node:url'
import { createApp, pingRedis, type ServiceDeps } from '@gatehouse/server'
import type { AuthConfig } from './config.ts'
import * as schema from './db/schema.ts'

export { schema }
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))
export type AuthDeps = ServiceDeps<typeof schema>

/** The auth service as a Fastify instance; never listens (server.ts does). */
export async function buildApp(config: AuthConfig, deps: AuthDeps) {
  const app = await createApp({
    service: config.service,
    description: 'Users, sessions, workspaces, SSO connections and the SAML endpoints.',
    logger: deps.logger,
    readiness: { database: deps.pingDatabase, redis: () => pingRedis(deps.redis) },
  })
  return app
}
