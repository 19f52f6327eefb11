import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '@gatehouse/server/errors'
import {
  InternalRefusal,
  IntrospectionAnswer,
  IntrospectionRequest,
  MembershipRemovalRequest,
  membershipRemovalRefusals,
} from '@gatehouse/server/internal'
import { Type } from 'typebox'
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
      schema: { hide: true, body: IntrospectionRequest, response: { 200: IntrospectionAnswer, 401: InternalRefusal } },
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
      // The contract both sides compile against (@gatehouse/server/internal).
      schema: {
        hide: true,
        body: MembershipRemovalRequest,
        response: {
          204: Type.Null(),
          ...Object.fromEntries(membershipRemovalRefusals.map((status) => [status, InternalRefusal])),
        },
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
