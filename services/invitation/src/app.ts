import { fileURLToPath } from 'node:url'
import { createApp, pingRedis, type ServiceDeps } from '@gatehouse/server'
import type { InvitationConfig } from './config.ts'
import * as schema from './db/schema.ts'

export { schema }
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))
export type InvitationDeps = ServiceDeps<typeof schema>

/** The invitation service as a Fastify instance; never listens (server.ts does). */
export async function buildApp(config: InvitationConfig, deps: InvitationDeps) {
  const app = await createApp({
    service: config.service,
    description: 'Invitations into workspaces and their emails.',
    logger: deps.logger,
    readiness: { database: deps.pingDatabase, redis: () => pingRedis(deps.redis) },
  })
  return app
}
