import formBody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError, errors } from '@gatehouse/server/errors'
import { perNetwork, rateLimit } from '@gatehouse/server/http'
import { isRedisUnavailable } from '@gatehouse/server/redis'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { authErrors } from '../errors.ts'
import { clientOf, ErrorRef, Uuid } from '../http-schemas.ts'
import { type SessionService, sessionCookieName } from '../sessions/service.ts'
import type { ConnectionCache } from './connections.ts'
import type { LoginFlow, SignedInThroughSso } from './login-flow.ts'
import { pendingLoginCookies, signedInHandoffCookie } from './pending-logins.ts'

const ConnectionParams = Type.Object({ connectionId: Uuid })

/** The SAML endpoints an IdP and a browser talk to: SP metadata, SP-initiated start, the ACS. */
export const samlRoutes: FastifyPluginAsyncTypebox<{
  connections: ConnectionCache
  publicUrl: URL
  loginFlow: LoginFlow
  sessions: SessionService
  redis: Redis
}> = async (app, { connections, publicUrl, loginFlow, sessions, redis }) => {
  // Only these routes take forms (the IdP's auto-submitted POST); the JSON API never does.
  await app.register(formBody, { bodyLimit: 1024 * 1024 })
  const https = publicUrl.protocol === 'https:'
  const pendingLogins = pendingLoginCookies({ https })
  const signedInHandoff = signedInHandoffCookie({ https })
  // Browsers reach these routes through the web gateway, which turns these JSON answers into its
  // refusal and confirmation pages (one copy of each, in services/web).
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const appError =
      error instanceof AppError
        ? error
        : error.validation
          ? authErrors.samlInvalid('The sign-in request is malformed.', { reason: 'malformed_request' })
          : isRedisUnavailable(error)
            ? errors.unavailable('Sign-in is unavailable for a moment. Try again shortly.')
            : null
    if (!appError || appError.statusCode >= 500) request.log.error({ err: error }, 'SAML request failed')
    // Why a sign-in was refused is what an operator helping a workspace set up SSO needs to see
    // (the person's email is in the auth.login.failed event, not in the log).
    else request.log.info({ code: appError.code, reason: appError.details.reason }, 'SAML sign-in refused')
    // Retry-After of a rate limit, among others.
    if (appError) reply.headers(appError.headers)
    const status = appError?.statusCode ?? (error.statusCode && error.statusCode < 500 ? error.statusCode : 500)
    const body: { error: string; message: string; reason?: unknown } = appError
      ? { error: appError.code, message: appError.message, ...appError.details }
      : { error: status < 500 ? 'bad_request' : 'internal_error', message: 'Sign-in failed. Try again.' }
    return reply.status(status).send(body)
  })

  app.get(
    '/sso/saml/:connectionId/metadata',
    { config: { access: 'public' }, schema: { tags: ['saml'], params: ConnectionParams, response: { 404: ErrorRef } } },
    async (request, reply) => {
      const metadata = await connections.spMetadata(request.params.connectionId)
      if (!metadata) throw authErrors.ssoNotConfigured('No such SSO connection.')
      return reply
        .type('application/samlmetadata+xml; charset=utf-8')
        .header('content-disposition', `inline; filename="gatehouse-${metadata.connectionId}.xml"`)
        .send(metadata.xml)
    },
  )

  app.get(
    '/sso/saml/:connectionId/login',
    {
      config: { access: 'public' },
      // Each start costs a signed AuthnRequest and a connection read, for anyone who asks: bounded
      // per network (an office behind one address signing in at 9:00 stays well under it).
      preHandler: rateLimit(redis, [perNetwork('sso-start', 120)]),
      schema: {
        tags: ['saml'],
        description:
          'A start another origin’s page sent the browser to (`Sec-Fetch-Site: cross-site` or `same-site`) is answered through the confirmation step, as an unsolicited response is: the ACS answers `{confirmationRequired}` instead of signing in. Starts from Gatehouse’s pages (`same-origin`), typed or bookmarked (`none`), or without the header sign in at once.',
        params: ConnectionParams,
        querystring: Type.Object({
          returnTo: Type.Optional(Type.String({ maxLength: 2048 })),
          loginHint: Type.Optional(
            Type.String({
              maxLength: 320,
              description:
                'The email the person typed, passed to the IdP as `login_hint` (Entra pre-fills its sign-in page); ignored unless an email address',
            }),
          ),
        }),
      },
    },
    async (request, reply) => {
      // Another origin's page sent the browser here (not our pages, nor the person typing or a
      // bookmark: `same-origin`, `none`; non-browsers send no header): its answer is confirmed first.
      const fetchSite = request.headers['sec-fetch-site']
      const { redirectUrl, relayState, pending } = await loginFlow.start(request.params.connectionId, {
        ...request.query,
        startedByAnotherOrigin: fetchSite === 'cross-site' || fetchSite === 'same-site',
      })
      pendingLogins.keep(request, reply, relayState, pending)
      return reply.redirect(redirectUrl, 302)
    },
  )

  app.post(
    '/sso/saml/:connectionId/acs',
    {
      config: { access: 'public' },
      bodyLimit: 1024 * 1024,
      schema: {
        tags: ['saml'],
        params: ConnectionParams,
        // Size and content are the SAML package's to judge, so it can give a precise reason (the
        // body limit bounds it; a maxLength here would count every character of every response).
        body: Type.Object({
          SAMLResponse: Type.Optional(Type.String()),
          RelayState: Type.Optional(Type.String({ maxLength: 1024 })),
        }),
      },
    },
    async (request, reply) => {
      if (request.body.SAMLResponse === undefined) {
        throw authErrors.samlInvalid('No SAML response was posted.', { reason: 'missing_response' })
      }
      const outcome = await loginFlow.complete({
        connectionId: request.params.connectionId,
        samlResponse: request.body.SAMLResponse,
        // Taken whatever the outcome: a start is answered once.
        pending: pendingLogins.take(request, reply, request.body.RelayState),
        client: clientOf(request),
      })
      if (outcome.kind === 'signedIn') {
        // The IdP's page posts here from its own site, so the browser sent no SameSite=Lax `session`
        // cookie: setting one now would replace the browser's other sign-ins (its password one).
        // The sign-in is finished by a same-site GET, which carries it (RFC 6265bis 5.2.1 Lax).
        if (request.headers['sec-fetch-site'] !== 'cross-site') return signIn(request, reply, outcome)
        signedInHandoff.keep(reply, outcome)
        return reply.redirect(`/sso/saml/${request.params.connectionId.toLowerCase()}/finish`, 303)
      }
      // A test sign-in: back to the page that reads its result; the session cookie is left as it was.
      if (outcome.kind === 'tested') return reply.redirect(outcome.returnTo, 302)
      const confirmation = {
        email: outcome.email,
        workspaceName: outcome.workspaceName,
        action: `/sso/saml/${request.params.connectionId.toLowerCase()}/confirm`,
        confirmation: outcome.confirmation,
      }
      return reply.send({ confirmationRequired: true, ...confirmation })
    },
  )

  app.get(
    '/sso/saml/:connectionId/finish',
    {
      config: { access: 'public' },
      schema: {
        tags: ['saml'],
        summary: 'Finish a sign-in the ACS judged on a cross-site post, where the browser showed no session cookie',
        description:
          'The ACS answers a cross-site post (`Sec-Fetch-Site: cross-site`, the IdP’s page) that signs in with 303 here, holding the new session in a short-lived cookie of its own: this same-site GET sees the browser’s `session` cookie, so the SSO sign-in joins the browser’s other sign-ins of the person instead of replacing them. 400 `saml_invalid` (`sign_in_expired`) without that cookie.',
        params: ConnectionParams,
      },
    },
    async (request, reply) => {
      const signedIn = signedInHandoff.take(request, reply)
      if (!signedIn) {
        throw authErrors.samlInvalid('This sign-in has expired or was already finished. Sign in again.', {
          reason: 'sign_in_expired',
        })
      }
      return signIn(request, reply, signedIn)
    },
  )

  app.post(
    '/sso/saml/:connectionId/confirm',
    {
      // Not exempt from the Origin guard: only our own confirmation page posts here.
      config: { access: 'public' },
      schema: {
        tags: ['saml'],
        summary:
          'Confirm an unsolicited (IdP-initiated) sign-in, or one another site started, from the confirmation page',
        params: ConnectionParams,
        body: Type.Object({ confirmation: Type.String({ maxLength: 128 }) }),
      },
    },
    async (request, reply) => {
      const signedIn = await loginFlow.confirm(
        request.params.connectionId,
        request.body.confirmation,
        clientOf(request),
      )
      return signIn(request, reply, signedIn)
    },
  )

  /**
   * This workspace's SSO joins the browser's other sign-ins of the same person (a sign-in as
   * someone else starts afresh): it adds a workspace, it never widens what the others reach.
   */
  async function signIn(request: FastifyRequest, reply: FastifyReply, signedIn: SignedInThroughSso) {
    const cookie = await sessions.withSignIn(request.cookies[sessionCookieName], signedIn.userId, {
      token: signedIn.token,
      values: { method: 'saml', workspaceId: signedIn.workspaceId },
    })
    sessions.setCookie(reply, cookie)
    return reply.redirect(signedIn.returnTo, 302)
  }
}
