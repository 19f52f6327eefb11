import { runService } from '@gatehouse/server/service'
import { buildApp, migrationsFolder, schema } from './app.ts'
import { loadConfig } from './config.ts'

await runService({ loadConfig, migrationsFolder, schema, buildApp })
