import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { workspaceOf } from '../sessions/access.ts'
import type { AuditService } from './service.ts'

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

const AuditEntry = Type.Object({
  id: Uuid,
  at: Type.String({ format: 'date-time' }),
  action: Type.String({
    description:
      '`sso.created`, `sso.idp_configured`, `sso.updated` (toggles, `requireSso`), `sso.certificate_added`, `sso.certificate_removed`, `sso.signing_key_rotated`, `sso.signing_key_retired`, `sso.deleted`, `sso.owner_recovery`, `sso.test_sign_in`, `sso.metadata_problem`, `sso.metadata_read_again` (the metadata URL refresh, `via: "metadata_refresh"`), `domain.claimed`, `domain.verified`, `domain.removed`, `invitation.created`, `invitation.resent`, `invitation.revoked`, `workspace.created`, `membership.joined`, `membership.removed`, `membership.left`, `membership.role_changed`, `setup_link.created`, `setup_link.revoked`, `setup_link.opened`, …',
  }),
  actor: Type.Object({
    userId: Type.Union([Uuid, Type.Null()], { description: 'Null when the system made the change.' }),
    email: Nullable(Type.String()),
    method: Type.Union(
      [Type.Literal('password'), Type.Literal('saml'), Type.Literal('setup_link'), Type.Literal('system')],
      {
        description:
          'How the actor was authenticated. `setup_link`: the holder of a setup link; `userId` is then the owner who created it.',
      },
    ),
    setupLinkId: Type.Union([Uuid, Type.Null()]),
  }),
  ip: Nullable(Type.String({ description: 'The address the change came from.' })),
  changes: Type.Record(Type.String(), Type.Unknown(), {
    description: 'What changed. Certificates appear as SHA-256 fingerprints only.',
  }),
})

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditService }> = async (app, { audit }) => {
  app.get(
    '/v1/workspaces/:workspaceId/audit',
    {
      config: { access: { workspace: 'admin' } },
      schema: {
        tags: ['audit'],
        summary: "The workspace's audit trail",
        description:
          'Every configuration change of the workspace — SSO connection, certificates (by fingerprint), enforcement, domains, invitations, members and roles, setup links — newest first, with who, how they signed in, from which address, and what changed. Owners and admins only.',
        params: WorkspaceParams,
        querystring: Type.Object({
          cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
          limit: Type.Optional(
            Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'Entries per page, 1 to 100; default 50.' }),
          ),
        }),
        response: {
          200: Type.Object({ entries: Type.Array(AuditEntry), nextCursor: Nullable(Type.String()) }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query
      return audit.list(workspaceOf(request).row.id, {
        limit: limit === undefined ? 50 : Number(limit),
        ...(cursor ? { cursor } : {}),
      })
    },
  )
}
