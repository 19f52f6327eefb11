import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { serviceProviderUrls } from '@gatehouse/saml'
import { normalizeEmail } from '@gatehouse/server/email'
import { perEmailAndNetwork, perNetwork, rateLimit } from '@gatehouse/server/http'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import type { DomainService } from '../domains/service.ts'
import { ErrorRef } from '../http-schemas.ts'

export const discoverRoutes: FastifyPluginAsyncTypebox<{
  domains: DomainService
  redis: Redis
  publicUrl: URL
}> = async (app, { domains, redis, publicUrl }) => {
  app.post(
    '/v1/auth/sso/discover',
    {
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('discover', 30), perEmailAndNetwork('discover', 10, 300)]),
      schema: {
        tags: ['sso'],
        summary: "Where an email's SSO sign-in starts: the connection of the workspace that verified its domain",
        description:
          "Routes by verified email domain only, never by membership: every other email, member or not, gets `{connections: []}` with the same status and shape, so the answer tells nobody who belongs where. Members of other workspaces sign in with their password, or through their workspace's own link `/sso/saml/:connectionId/login`.",
        body: Type.Object({ email: Type.String({ maxLength: 320 }) }),
        response: {
          200: Type.Object({
            connections: Type.Array(Type.Object({ loginUrl: Type.String() }), { maxItems: 1 }),
          }),
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      // The same query for every input, well-formed or not: a miss takes what a hit takes.
      const connectionId = await domains.loginConnectionFor(normalizeEmail(request.body.email) ?? '')
      return {
        connections: connectionId ? [{ loginUrl: serviceProviderUrls(publicUrl, connectionId).loginUrl }] : [],
      }
    },
  )
}
