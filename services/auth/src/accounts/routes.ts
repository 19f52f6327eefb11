import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { perEmailAndNetwork, perNetwork, rateLimit } from '@gatehouse/server/http'
import { Authentication, SignIn } from '@gatehouse/server/internal'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { clientOf, ErrorRef, User, userView } from '../http-schemas.ts'
import { actorOf } from '../sessions/access.ts'
import { accountAuthentication, signInFor, workspaceAuthentication } from '../sessions/reach.ts'
import { authenticationView, type SessionService, sessionCookieName } from '../sessions/service.ts'
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
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('signup', 20), perEmailAndNetwork('signup', 5, 600)]),
      schema: {
        tags: ['accounts'],
        body: Type.Object({
          ...Credentials.properties,
          firstName: Type.Optional(Type.String({ maxLength: 100 })),
          lastName: Type.Optional(Type.String({ maxLength: 100 })),
          invitationToken: Type.Optional(
            Type.String({
              maxLength: 128,
              description: 'The invitation link’s token, when signing up from it: it proves the address',
            }),
          ),
        }),
        response: { 201: Type.Object({ user: User }), 400: ErrorRef, 409: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user, token } = await accounts.signUp(request.body, clientOf(request), request.id)
      sessions.setCookie(reply, token)
      return reply.status(201).send({ user: userView(user) })
    },
  )

  app.post(
    '/v1/auth/login',
    {
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('login', 30)]),
      schema: {
        tags: ['accounts'],
        body: Credentials,
        response: { 200: Type.Object({ user: User }), 401: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user, cookie } = await accounts.logIn(request.body, clientOf(request), request.cookies[sessionCookieName])
      sessions.setCookie(reply, cookie)
      return { user: userView(user) }
    },
  )

  app.post(
    '/v1/auth/logout',
    // Signing out needs no session (it then only clears the cookie); with one, it ends all of them.
    { config: { access: 'public' }, schema: { tags: ['accounts'], response: { 204: Type.Null() } } },
    async (request, reply) => {
      const signedIn = await sessions.find(request)
      if (signedIn) await accounts.logOut(signedIn)
      sessions.clearCookie(reply)
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/auth/sessions/end-by-link',
    {
      // Whoever holds the link (from the email of a first sign-in through an IdP) may end that one
      // session; the token is 256 bits, the limit only keeps guessing traffic off the database.
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('end-by-link', 20)]),
      schema: {
        tags: ['accounts'],
        summary: 'End the session named by the link in a first SSO sign-in email',
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), 400: ErrorRef, 404: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      await accounts.endSessionByLink(request.body.token)
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/auth/reauthenticate',
    {
      config: { access: 'session' },
      preHandler: rateLimit(redis, [perNetwork('reauthenticate', 30)]),
      schema: {
        tags: ['accounts'],
        summary: 'Re-enter the password: an admin may then change the workspace IdP for 5 minutes',
        body: Type.Object({ password: Credentials.properties.password }),
        response: { 204: Type.Null(), 401: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      await accounts.reauthenticate(actorOf(request).signedIn, request.body.password, clientOf(request))
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/v1/auth/session',
    {
      config: { access: 'session' },
      schema: {
        tags: ['accounts'],
        summary: 'Who is signed in, and what this browser’s sign-in reaches',
        response: {
          200: Type.Object({
            user: User,
            authentications: Type.Array(Authentication, {
              description: 'How this browser is signed in: its password, and each workspace’s SSO (newest first)',
            }),
            account: Type.Boolean({
              description: 'Whether the sign-in may act on the account (create workspaces, accept invitations)',
            }),
            memberships: Type.Array(
              Type.Object({
                workspaceId: Type.String(),
                workspaceName: Type.String(),
                role: Type.String(),
                ssoAllowed: Type.Boolean(),
                ssoRequired: Type.Boolean({ description: 'Whether the workspace requires its own SSO (requireSso)' }),
                reachable: Type.Boolean({ description: 'Whether this sign-in reaches the workspace' }),
                signIn: Type.Optional(SignIn),
              }),
            ),
          }),
          401: ErrorRef,
        },
      },
    },
    async (request) => {
      const { signedIn, user } = actorOf(request)
      const memberships = (await workspaces.memberships(user.id)).map(({ ssoConnectionId, ...membership }) => {
        const sso = { ssoConnectionId, ssoRequired: membership.ssoRequired }
        const reachable = workspaceAuthentication(signedIn, membership.workspaceId, sso) !== undefined
        return { ...membership, reachable, ...(reachable ? {} : { signIn: signInFor(sso) }) }
      })
      return {
        user: userView(user),
        authentications: signedIn.authentications.map(authenticationView),
        account: accountAuthentication(signedIn) !== undefined,
        memberships,
      }
    },
  )
}
