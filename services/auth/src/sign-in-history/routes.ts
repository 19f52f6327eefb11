import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { workspaceOf } from '../sessions/access.ts'
import { failingRule, type SignInHistoryService } from './service.ts'

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

const SignIn = Type.Object({
  id: Uuid,
  occurredAt: Type.String({ format: 'date-time' }),
  email: Type.String({
    description: 'As sent by the IdP; `(unverified)` when the response was refused before it was trusted.',
  }),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  code: Nullable(
    Type.String({
      description: 'Refusals: the error code the person got (`saml_invalid`, `sso_not_allowed`, `saml_replayed`).',
    }),
  ),
  reason: Nullable(
    Type.String({
      description: 'Refusals: the precise reason (`issuer_mismatch`, `signature_invalid`, `not_a_member`, …).',
    }),
  ),
  reference: Nullable(
    Type.String({
      description: '`code/reason`, as the refusal page showed it to the person (e.g. `saml_invalid/issuer_mismatch`).',
    }),
  ),
  message: Nullable(Type.String({ description: 'Refusals: what the person was told, which says what to fix.' })),
  initiation: Type.Union([Type.Literal('sp'), Type.Literal('idp'), Type.Null()], {
    description: '`sp`: answered a sign-in Gatehouse started; `idp`: unsolicited (started from the IdP).',
  }),
  certificateFingerprint: Nullable(
    Type.String({ description: 'Successes: SHA-256 fingerprint of the IdP certificate that signed the response.' }),
  ),
  ip: Type.String(),
})

const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('failing'), Type.Literal('healthy'), Type.Literal('idle')]),
    windowMinutes: Type.Integer(),
    attempts: Type.Integer({ description: 'Sign-ins in the window.' }),
    refused: Type.Integer({
      description: 'Of which refused for a reason the connection settings decide (`saml_invalid`).',
    }),
    latestRefusal: Type.Union([SignIn, Type.Null()], {
      description: 'When failing: the newest such refusal; its `message` says what to fix.',
    }),
    latestCertificate: Nullable(
      Type.String({
        description: 'Fingerprint of the certificate that signed the newest successful sign-in (30 days).',
      }),
    ),
  },
  {
    description: `\`failing\` when, in the last ${failingRule.windowMs / 60_000} minutes, at least ${failingRule.minRefused} sign-ins were refused with \`saml_invalid\` and they are at least ${failingRule.refusedShare * 100}% of that window's attempts; \`healthy\` when the window had attempts otherwise; \`idle\` when it had none.`,
  },
)

export const signInHistoryRoutes: FastifyPluginAsyncTypebox<{ signIns: SignInHistoryService }> = async (
  app,
  { signIns },
) => {
  app.get(
    '/v1/workspaces/:workspaceId/sso/sign-ins',
    {
      // Owners and admins, through a sign-in that reaches the workspace (sessions/access.ts).
      config: { access: { workspace: 'admin' } },
      schema: {
        tags: ['sso'],
        summary: "The workspace's SSO sign-in history",
        description:
          'SSO sign-in attempts of the last 30 days, newest first, with the connection health the SSO page shows. Owners and admins only. Written from the `auth-events` stream, so a sign-in appears a few milliseconds after it happened.',
        params: WorkspaceParams,
        querystring: Type.Object({
          cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
          // A string: query values are not coerced (packages/server), so digits are checked here.
          limit: Type.Optional(
            Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'Rows per page, 1 to 100; default 50.' }),
          ),
          reference: Type.Optional(
            Type.String({
              pattern: '^[a-z_]{1,64}(/[a-z_]{1,64})?$',
              description:
                'Only refusals with this reference (`saml_invalid/issuer_mismatch`) or code (`saml_invalid`).',
            }),
          ),
        }),
        response: {
          200: Type.Object({ signIns: Type.Array(SignIn), nextCursor: Nullable(Type.String()), health: Health }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request) => {
      const workspaceId = workspaceOf(request).row.id
      const { limit, ...query } = request.query
      const page = await signIns.list(workspaceId, { ...query, limit: limit === undefined ? 50 : Number(limit) })
      return { ...page, health: await signIns.health(workspaceId) }
    },
  )
}
