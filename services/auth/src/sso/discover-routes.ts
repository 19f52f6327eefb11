import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { serviceProviderUrls } from '@gatehouse/saml'
import { normalizeEmail, perEmailAndNetwork, perNetwork, rateLimit } from '@gatehouse/server'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { ErrorRef } from '../http-schemas.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { findUsableConnections } from './repo.ts'

export const discoverRoutes: FastifyPluginAsyncTypebox<{ db: AuthDatabase; redis: Redis; publicUrl: URL }> = async (
  app,
  { db, redis, publicUrl },
) => {
  app.post(
    '/v1/auth/sso/discover',
    {
      config: { access: 'public' },
      // The answer says where an email may sign in with SSO: bound how fast anyone can ask.
      preHandler: rateLimit(redis, [perNetwork('discover', 30), perEmailAndNetwork('discover', 10, 300)]),
      schema: {
        tags: ['sso'],
        body: Type.Object({ email: Type.String({ maxLength: 320 }) }),
        response: {
          200: Type.Object({
            connections: Type.Array(
              Type.Object({ workspaceId: Type.String(), workspaceName: Type.String(), loginUrl: Type.String() }),
            ),
          }),
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      const email = normalizeEmail(request.body.email)
      if (!email) return { connections: [] }
      const usable = await findUsableConnections(db, email)
      return {
        connections: usable.map((connection) => ({
          workspaceId: connection.workspaceId,
          workspaceName: connection.workspaceName,
          loginUrl: serviceProviderUrls(publicUrl, connection.connectionId).loginUrl,
        })),
      }
    },
  )
}
