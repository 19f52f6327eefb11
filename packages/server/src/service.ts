// Running a service (auth, invitation): its database, Redis, HTTP app and process put together —
// the one entry point that loads them all, apart so that the programs that need less (web, the
// development IdP) import ./process and ./http alone.
import { connect, type Database } from '@gatehouse/db'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Redis } from 'ioredis'
import type { PressureLimits } from './http/app.ts'
import type { BaseConfig } from './process/config.ts'
import { loggerOptions } from './process/logger.ts'
import { serve, start } from './process/serve.ts'
import { createRedis } from './redis/client.ts'

/** What a service's `buildApp` receives besides its config: live connections, never URLs. */
export interface ServiceDeps<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>
  pingDatabase: () => Promise<void>
  redis: Redis
  logger?: FastifyServerOptions['logger']
  /** Overrides of the production limits (tests whose own code blocks the event loop). */
  pressureLimits?: PressureLimits
}

export interface ServiceDefinition<TConfig extends BaseConfig, TSchema extends Record<string, unknown>> {
  loadConfig: () => TConfig
  migrationsFolder: string
  schema: TSchema
  buildApp: (config: TConfig, deps: ServiceDeps<TSchema>) => Promise<FastifyInstance>
}

/**
 * A service's whole `server.ts`: read config, connect and migrate the database, connect Redis,
 * build the app and listen until SIGTERM / Ctrl-C. With ROLE=migrate: apply the migrations and exit.
 */
export function runService<TConfig extends BaseConfig, TSchema extends Record<string, unknown>>(
  definition: ServiceDefinition<TConfig, TSchema>,
): Promise<void> {
  return start(async () => {
    const config = definition.loadConfig()
    // Migrations are applied by `migrate` (a deployment's job, before its rollout) and by `all`
    // (one process doing everything, as `pnpm dev` and compose run it); `api` and `worker`
    // replicas only wait until the database has them, so no two replicas race a schema change.
    const database = await connect({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      service: config.service,
      migrationsFolder: definition.migrationsFolder,
      schema: definition.schema,
      migrations: config.role === 'api' || config.role === 'worker' ? 'await' : 'apply',
      onAwaitingMigrations: (pending) =>
        console.error(`${config.service}: waiting for ${pending} database migration(s) to be applied (ROLE=migrate)`),
    })
    if (config.role === 'migrate') {
      await database.close()
      console.log(`${config.service}: database migrations applied`)
      return
    }
    let app: FastifyInstance | undefined
    const redis = createRedis(config.redisUrl, {
      name: `gatehouse-${config.service}`,
      log: {
        info: (details, message) => app?.log.info(details, message),
        warn: (details, message) => app?.log.warn(details, message),
      },
    })
    app = await definition.buildApp(config, {
      db: database.db,
      pingDatabase: () => database.ping(),
      redis,
      logger: loggerOptions(config),
    })
    app.log.info({ engine: database.engine, publicUrl: config.publicUrl.href }, 'database ready')
    await serve(app, {
      host: config.host,
      port: config.port,
      closeDependencies: async () => {
        redis.disconnect()
        await database.close()
      },
    })
  })
}
