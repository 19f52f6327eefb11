import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { perEmailAndNetwork, perNetwork, rateLimit } from '@gatehouse/server'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { clientOf, ErrorRef, User, userView } from '../http-schemas.ts'
import type { SessionService } from '../sessions/service.ts'
import type { WorkspaceService } from '../workspaces/service.ts'
import { maximumPasswordLength } from './passwords.ts'
import type { AccountService } from './service.ts'

const Credentials = Type.Object({
  email: Type.String({ maxLength: 320 }),
  password: Type.String({ maxLength: maximumPasswordLength * 4 }),
})

export const accountRoutes: FastifyPluginAsyncTypebox<{
  accounts: AccountService
  sessions: SessionService
  workspaces: WorkspaceService
  redis: Redis
}> = async (app, { accounts, sessions, workspaces, redis }) => {
  app.post(
    '/v1/auth/signup',
    {
      preHandler: rateLimit(redis, [perNetwork('signup', 20), perEmailAndNetwork('signup', 5, 600)]),
      schema: {
        tags: ['accounts'],
        body: Type.Object({
          ...Credentials.properties,
          firstName: Type.Optional(Type.String({ maxLength: 100 })),
          lastName: Type.Optional(Type.String({ maxLength: 100 })),
        }),
        response: { 201: Type.Object({ user: User }), 400: ErrorRef, 409: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user, token } = await accounts.signUp(request.body, clientOf(request))
      sessions.setCookie(reply, token)
      return reply.status(201).send({ user: userView(user) })
    },
  )

  app.post(
    '/v1/auth/login',
    {
      preHandler: rateLimit(redis, [perNetwork('login', 30)]),
      schema: {
        tags: ['accounts'],
        body: Credentials,
        response: { 200: Type.Object({ user: User }), 401: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user, token } = await accounts.logIn(request.body, clientOf(request))
      sessions.setCookie(reply, token)
      return { user: userView(user) }
    },
  )

  app.post(
    '/v1/auth/logout',
    { schema: { tags: ['accounts'], response: { 204: Type.Null() } } },
    async (request, reply) => {
      const signedIn = await sessions.find(request)
      if (signedIn) await accounts.logOut(signedIn.user.id, signedIn.session.id)
      sessions.clearCookie(reply)
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/v1/auth/session',
    {
      schema: {
        tags: ['accounts'],
        response: {
          200: Type.Object({
            user: User,
            memberships: Type.Array(
              Type.Object({
                workspaceId: Type.String(),
                workspaceName: Type.String(),
                role: Type.String(),
                ssoAllowed: Type.Boolean(),
              }),
            ),
          }),
          401: ErrorRef,
        },
      },
    },
    async (request) => {
      const { user } = await sessions.require(request)
      return { user: userView(user), memberships: await workspaces.memberships(user.id) }
    },
  )
}
