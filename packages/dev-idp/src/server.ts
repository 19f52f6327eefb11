// Runs the dev IdP: `pnpm --filter @gatehouse/dev-idp start`. For development and tests only.
import { resolve } from 'node:path'
import { ConfigError, loggerOptions, readChoice, readPort, readUrl, serve, start } from '@gatehouse/server/process'
import type { FastifyRequest } from 'fastify'
import { buildDevIdpApp } from './app.ts'
import { createDevIdp, defaultTenantId } from './idp.ts'
import { loadOrCreateSigningKeys } from './keys.ts'
import { samlSchemaToolMissing } from './saml-schema.ts'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

await start(async () => {
  const env = process.env
  const port = readPort(env, 'PORT', 3003)
  const host = env.HOST || '127.0.0.1'
  const dataDir = resolve(env.DATA_DIR || './.data')
  const baseUrl = readUrl(env, 'DEV_IDP_BASE_URL', `http://localhost:${port}`, ['http:', 'https:'])
  const tenantId = env.DEV_IDP_TENANT_ID || defaultTenantId
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenantId)) {
    throw new ConfigError('DEV_IDP_TENANT_ID', 'must be a UUID, as Entra tenant IDs are')
  }
  const logger = loggerOptions({ service: 'dev-idp', logLevel: readChoice(env, 'LOG_LEVEL', 'info', logLevels) })

  const keys = await loadOrCreateSigningKeys(dataDir)
  const idp = createDevIdp({ keys, tenantId, baseUrl: baseUrl.href })
  const app = await buildDevIdpApp({
    idp,
    dataDir,
    logger: {
      ...(typeof logger === 'object' ? logger : {}),
      // The query string carries SAMLRequest and RelayState: log the path only.
      serializers: {
        req: (request: FastifyRequest) => ({ method: request.method, url: request.url.split('?')[0] }),
      },
    },
  })
  app.log.warn(
    { loginUrl: idp.loginUrl, entraIdentifier: idp.entityId, metadataUrl: idp.metadataUrl, dataDir },
    'dev IdP (imitating Microsoft Entra ID) is for development and tests only',
  )
  const schemaToolMissing = samlSchemaToolMissing()
  if (schemaToolMissing) app.log.warn(`AuthnRequests are not held to the OASIS schema: ${schemaToolMissing}`)
  await serve(app, { host, port })
})
