import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { enforceLimits, perEmailAndNetwork, perNetwork, rateLimit } from '@gatehouse/server/http'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { clientOf, ErrorRef, User, userView } from '../http-schemas.ts'
import { actorOf } from '../sessions/access.ts'
import { type SessionService, sessionCookieName } from '../sessions/service.ts'
import { maximumPasswordLength } from './passwords.ts'
import type { RecoveryService } from './recovery.ts'

const Password = Type.String({ maxLength: maximumPasswordLength * 4 })
// Link tokens are 43 characters (256 bits, base64url); invitation tokens are the invitation
// service's, no longer. Anything longer is refused before it is hashed or forwarded.
const LinkToken = Type.String({ minLength: 1, maxLength: 128 })
const SignedInUser = { 200: Type.Object({ user: User }) }
const forgotAnswer =
  'If an account holds this address, we emailed it a link to choose a new password. The link works once, for 30 minutes.'

export const recoveryRoutes: FastifyPluginAsyncTypebox<{
  recovery: RecoveryService
  sessions: SessionService
  redis: Redis
}> = async (app, { recovery, sessions, redis }) => {
  app.post(
    '/v1/auth/password/forgot',
    {
      config: { access: 'public' },
      // Per network, and per (address, network): a stranger elsewhere never uses up the owner's tries.
      preHandler: rateLimit(redis, [
        perNetwork('password-forgot', 10, 600),
        perEmailAndNetwork('password-forgot', 3, 3600),
      ]),
      schema: {
        tags: ['accounts'],
        summary: 'Mail a password reset link; the same answer whether or not an account holds the address',
        body: Type.Object({ email: Type.String({ maxLength: 320 }) }),
        response: { 202: Type.Object({ message: Type.String() }), 400: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      await recovery.requestReset(request.body.email, clientOf(request))
      return reply.status(202).send({ message: forgotAnswer })
    },
  )

  app.post(
    '/v1/auth/password/reset',
    {
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('password-reset', 30)]),
      schema: {
        tags: ['accounts'],
        summary:
          'Choose a new password with a reset link: every session of the account ends, this browser signs in; an unproven account is reclaimed as by /v1/auth/email/reclaim',
        body: Type.Object({ token: LinkToken, password: Password }),
        response: { ...SignedInUser, 400: ErrorRef, 404: ErrorRef, 410: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user, cookie } = await recovery.resetPassword(request.body, clientOf(request))
      sessions.setCookie(reply, cookie)
      return { user: userView(user) }
    },
  )

  app.post(
    '/v1/auth/email/confirm',
    {
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('email-confirm', 30)]),
      schema: {
        tags: ['accounts'],
        summary:
          'Prove the address with a confirmation link, signed in as the account or giving its password (then signed in)',
        body: Type.Object({ token: LinkToken, password: Type.Optional(Password) }),
        response: { ...SignedInUser, 401: ErrorRef, 404: ErrorRef, 410: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const previousCookie = request.cookies[sessionCookieName]
      const signedIn = await sessions.find(request)
      const { user, cookie } = await recovery.confirmEmail(request.body, clientOf(request), signedIn, previousCookie)
      if (cookie) sessions.setCookie(reply, cookie)
      return { user: userView(user) }
    },
  )

  app.post(
    '/v1/auth/email/reclaim',
    {
      config: { access: 'public' },
      preHandler: rateLimit(redis, [perNetwork('email-reclaim', 30)]),
      schema: {
        tags: ['accounts'],
        summary:
          'Take back an unproven account holding your address, with its confirmation link or an invitation link to the address: its password is replaced, its sessions end, and every membership it held ends (a workspace it alone owned is deleted)',
        body: Type.Object({
          token: LinkToken,
          from: Type.Union([Type.Literal('confirmation'), Type.Literal('invitation')]),
          password: Password,
        }),
        response: { ...SignedInUser, 400: ErrorRef, 404: ErrorRef, 409: ErrorRef, 410: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user, cookie } = await recovery.reclaim(request.body, clientOf(request), request.id)
      sessions.setCookie(reply, cookie)
      return { user: userView(user) }
    },
  )

  app.post(
    '/v1/auth/email/confirmation',
    {
      config: { access: 'password' },
      schema: {
        tags: ['accounts'],
        summary: 'Mail a new confirmation link to the signed-in account’s address',
        response: { 202: Type.Null(), 409: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { user } = actorOf(request)
      await enforceLimits(
        redis,
        [{ name: 'confirmation-mail:account', limit: 3, windowSeconds: 3600, subject: user.id }],
        request.log,
      )
      await recovery.resendConfirmation(user)
      return reply.status(202).send(null)
    },
  )

  app.post(
    '/v1/auth/password/change',
    {
      // The account's own password sign-in: a workspace IdP's session may not change the account.
      config: { access: 'password' },
      preHandler: rateLimit(redis, [perNetwork('password-change', 30)]),
      schema: {
        tags: ['accounts'],
        summary: 'Change the password (the current one is needed); the account’s other sessions end',
        body: Type.Object({ currentPassword: Password, newPassword: Password }),
        response: { 204: Type.Null(), 400: ErrorRef, 401: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const { signedIn, session } = actorOf(request)
      await recovery.changePassword(signedIn, session, request.body, clientOf(request))
      return reply.status(204).send(null)
    },
  )
}
