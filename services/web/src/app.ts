import { createApp, type PressureLimits } from '@gatehouse/server/http'
import type { FastifyServerOptions } from 'fastify'
import type { WebConfig } from './config.ts'
import { gatewayRoutes } from './gateway/routes.ts'
import { assetRoutes } from './pages/assets.ts'
import { pageRoutes } from './pages/routes.ts'

// Located from a module directly under src/, so that the production bundle (dist/server.mjs, at the
// same depth) finds it too.
const publicFolder = new URL('../public/', import.meta.url)

export interface WebDeps {
  logger?: FastifyServerOptions['logger']
  pressureLimits?: PressureLimits
}

/** The web app: pages, their assets and the same-origin gateway. Never listens (server.ts does). */
export async function buildApp(config: WebConfig, deps: WebDeps = {}) {
  const app = await createApp({
    service: config.service,
    description: 'Pages and the same-origin gateway to auth and invitation.',
    logger: deps.logger,
    publicUrl: config.publicUrl,
    // Behind a load balancer or ingress, the client's address comes from its X-Forwarded-For.
    trustProxy: config.trustProxy,
    pressureLimits: { maxEventLoopDelayMs: config.maxEventLoopDelayMs, ...deps.pressureLimits },
    // Ready when web itself serves: its pages and its answers for a missing upstream (502
    // upstream_unavailable) must stay reachable while auth or invitation is down, and every web pod
    // going unready with its upstream would turn the whole site into the ingress's error page.
    readiness: {},
  })
  await app.register(gatewayRoutes, {
    authUrl: config.authUrl,
    invitationUrl: config.invitationUrl,
    publicUrl: config.publicUrl,
    gatewaySecret: config.gatewaySecret,
  })
  await app.register(assetRoutes, { folder: publicFolder })
  await app.register(pageRoutes)
  return app
}
