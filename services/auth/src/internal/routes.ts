import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '@gatehouse/server/errors'
import { IntrospectionAnswer, IntrospectionRequest } from '@gatehouse/server/internal'
import { Type } from 'typebox'
import { ErrorRef, Uuid } from '../http-schemas.ts'
import type { MembershipService } from '../memberships/service.ts'
import type { Introspect } from '../sessions/introspection.ts'
import type { SessionService } from '../sessions/service.ts'
import { adminRoles, type WorkspaceService } from '../workspaces/service.ts'

/**
 * Service-to-service calls (bearer INTERNAL_TOKEN), e.g. the invitation service asking who a
 * session is and what it reaches. Never exposed through the web gateway.
 */
export const internalRoutes: FastifyPluginAsyncTypebox<{
  introspect: Introspect
  sessions: SessionService
  workspaces: WorkspaceService
  memberships: MembershipService
}> = async (app, { introspect, sessions, workspaces, memberships }) => {
  app.post(
    '/internal/introspect',
    {
      config: { access: 'internal' },
      // The contract both sides compile against (@gatehouse/server/internal).
      schema: { hide: true, body: IntrospectionRequest, response: { 200: IntrospectionAnswer, 401: ErrorRef } },
    },
    async (request): Promise<IntrospectionAnswer> => {
      const answer = await introspect(request.body)
      if (!answer) throw errors.unauthenticated()
      return answer
    },
  )

  // The invitation service revoking an accepted invitation: the membership it made is removed for
  // the admin whose session is forwarded, with the same authorization and rules as
  // DELETE /v1/workspaces/:workspaceId/members/:userId (one place decides, and the admin gets its
  // answer synchronously: a 204 means the person's SSO into the workspace is already refused).
  app.post(
    '/internal/memberships/remove',
    {
      config: { access: 'internal' },
      schema: {
        hide: true,
        body: Type.Object({
          sessionToken: Type.String({ maxLength: 1024 }),
          workspaceId: Uuid,
          userId: Uuid,
          // The accepted invitation being revoked: its event, if still on its way, grants nothing.
          invitationId: Type.Optional(Uuid),
          // The admin's address as the invitation service saw it (the audit trail's "from where").
          ip: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      const signedIn = await sessions.findByCookie(request.body.sessionToken)
      if (!signedIn) throw errors.unauthenticated()
      const { workspaceId, userId, invitationId, ip } = request.body
      const granted = await workspaces.authorize(workspaceId, signedIn, adminRoles)
      const actor = { userId: signedIn.user.id, session: granted.session, ip: ip ?? request.ip }
      await memberships.remove(workspaceId, userId, actor, invitationId)
      return reply.status(204).send(null)
    },
  )
}
