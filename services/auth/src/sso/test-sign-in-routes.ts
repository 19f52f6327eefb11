import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { perNetwork, rateLimit } from '@gatehouse/server/http'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { ErrorRef, WorkspaceParams } from '../http-schemas.ts'
import { auditActorFrom, workspaceOf } from '../sessions/access.ts'
import type { ConnectionService } from './connections.ts'
import type { LoginFlow } from './login-flow.ts'
import { pendingLoginCookies } from './pending-logins.ts'
import type { TestSignIns } from './test-sign-in.ts'

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

export const TestSignInResult = Type.Object({
  at: Type.String({ format: 'date-time' }),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('refused')], {
    description: '`succeeded`: the response was genuine and its claims are shown; `refused`: see `refusal`.',
  }),
  memberCanSignIn: Type.Boolean({
    description: 'Whether the person the IdP named could sign in to the workspace now (CONTRACT.md rule, 2 and 3).',
  }),
  claims: Type.Union([
    Type.Object({
      nameId: Type.String(),
      nameIdFormat: Nullable(Type.String()),
      email: Type.String(),
      firstName: Nullable(Type.String()),
      lastName: Nullable(Type.String()),
      issuer: Type.String(),
      attributes: Type.Array(Type.Object({ name: Type.String(), values: Type.Array(Type.String()) })),
      certificateFingerprint: Type.String(),
    }),
    Type.Null(),
  ]),
  refusal: Type.Union([
    Type.Object({
      code: Type.String(),
      reason: Type.String(),
      reference: Type.String(),
      message: Type.String({ description: 'What is wrong and what to change.' }),
    }),
    Type.Null(),
  ]),
})

export const TestSignInStart = Type.Object({
  redirectUrl: Type.String({ description: 'Where to send the browser: the IdP, with the AuthnRequest.' }),
})

const errorsOf = { 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 429: ErrorRef }

/** The SSO page's test button: start an SP-initiated test sign-in, read its result. */
export const testSignInRoutes: FastifyPluginAsyncTypebox<{
  connections: ConnectionService
  loginFlow: LoginFlow
  testSignIns: TestSignIns
  redis: Redis
  https: boolean
}> = async (app, { connections, loginFlow, testSignIns, redis, https }) => {
  const pendingLogins = pendingLoginCookies({ https })
  const config = { access: { workspace: 'admin' } } as const
  app.post(
    '/v1/workspaces/:workspaceId/sso/test',
    {
      config,
      preHandler: rateLimit(redis, [perNetwork('sso-start', 120)]),
      schema: {
        tags: ['sso'],
        summary: 'Start a test sign-in',
        description:
          'Starts an SP-initiated sign-in through the connection, bound to this browser (the `saml_binding` cookie). Send the browser to `redirectUrl`; after the IdP, the ACS stores the result for the caller — the claims received, or the exact refusal and what to change — and returns to the SSO page, without opening or changing any session and without a login event. Read it with GET. 404 `sso_not_configured`, 409 `sso_disabled` (no IdP yet, or turned off).',
        params: WorkspaceParams,
        response: { 200: TestSignInStart, ...errorsOf },
      },
    },
    async (request, reply) => {
      const workspaceId = workspaceOf(request).row.id
      const actor = auditActorFrom(request)
      const { id } = await connections.get(workspaceId)
      const { redirectUrl, relayState, pending } = await loginFlow.start(id, {
        test: { workspaceId, tester: `user:${actor.userId}`, actor, returnTo: `/workspaces/${workspaceId}/sso` },
      })
      pendingLogins.keep(request, reply, relayState, pending)
      return { redirectUrl }
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId/sso/test',
    {
      config,
      schema: {
        tags: ['sso'],
        summary: 'The latest test sign-in result',
        description: "The caller's own latest test sign-in in this workspace (kept an hour), or null.",
        params: WorkspaceParams,
        response: { 200: Type.Object({ testSignIn: Type.Union([TestSignInResult, Type.Null()]) }), ...errorsOf },
      },
    },
    async (request) => {
      const workspaceId = workspaceOf(request).row.id
      return { testSignIn: await testSignIns.latest(workspaceId, `user:${auditActorFrom(request).userId}`) }
    },
  )
}
