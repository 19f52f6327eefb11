import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/**
 * What a route needs before its handler runs. Every route declares one in `config.access`
 * (fastify/demo's autohooks, Infisical's `verifyAuth`): a route that declares nothing is refused
 * at start-up, so no handler can forget its check.
 */
export type RouteAccess =
  /** anyone */
  | 'public'
  /** a service holding INTERNAL_TOKEN */
  | 'internal'
  /** any live session, however it was authenticated */
  | 'session'
  /** a password authentication: what acts on the account (CONTRACT.md "Sessions and what they reach") */
  | 'password'
  /** a session that reaches `:workspaceId` (or the workspace the service names) with at least this role */
  | { workspace: 'member' | 'admin' | 'owner' }
  /** a live setup link's token (`x-setup-token`): one workspace's SSO setup, and nothing else (auth) */
  | 'setup_link'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
  }
}

export interface DeclaredRoute {
  method: string
  url: string
  access: RouteAccess
}

/**
 * Registers the default-deny hook: every route added after it must declare `config.access`, and
 * `enforce` runs first thing on each request (onRequest: before its body is read or parsed, so a
 * refused caller costs no parsing; params are the raw strings of the path). The declared routes
 * are kept on `app.declaredRoutes` for tests that list them.
 */
export const routeAccess = fp<{ enforce: (request: FastifyRequest, access: RouteAccess) => Promise<void> }>(
  async (app, options) => {
    const declared: DeclaredRoute[] = []
    app.decorate('declaredRoutes', declared)
    app.addHook('onRoute', (route) => {
      const access = route.config?.access
      if (access === undefined) {
        throw new Error(`${String(route.method)} ${route.url} declares no access (config.access): refused`)
      }
      if (route.method !== 'HEAD') declared.push({ method: String(route.method), url: route.url, access })
    })
    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access
      // Only routes registered before this plugin (health, readiness, docs) declare nothing:
      // the onRoute hook refuses any later one.
      if (access === undefined) return
      await options.enforce(request, access)
    })
  },
  { name: 'route-access' },
)

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after `routeAccess`, with what it needs. */
    declaredRoutes: DeclaredRoute[]
  }
}
