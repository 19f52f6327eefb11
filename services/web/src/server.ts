import { loggerOptions, serve, start } from '@gatehouse/server/process'
import { buildApp } from './app.ts'
import { loadConfig } from './config.ts'

await start(async () => {
  const config = loadConfig()
  const app = await buildApp(config, { logger: loggerOptions(config) })
  app.log.info(
    { publicUrl: config.publicUrl.href, authUrl: config.authUrl.href, invitationUrl: config.invitationUrl.href },
    'web ready',
  )
  await serve(app, { host: config.host, port: config.port })
})
