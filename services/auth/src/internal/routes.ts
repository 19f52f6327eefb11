import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, IntrospectionAnswer, IntrospectionRequest, normalizeEmail } from '@gatehouse/server'
import { Type } from 'typebox'
import { ErrorRef, Uuid } from '../http-schemas.ts'
import type { MembershipService } from '../memberships/service.ts'
import { accountAuthentication, signInFor, workspaceAuthentication } from '../sessions/reach.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { authenticationView, type SessionService } from '../sessions/service.ts'
import { findWorkspaceAccess } from '../workspaces/repo.ts'
import { adminRoles, type WorkspaceService } from '../workspaces/service.ts'

/**
 * Service-to-service calls (bearer INTERNAL_TOKEN), e.g. the invitation service asking who a
 * session is and what it reaches. Never exposed through the web gateway.
 */
export const internalRoutes: FastifyPluginAsyncTypebox<{
  db: AuthDatabase
  sessions: SessionService
  workspaces: WorkspaceService
  memberships: MembershipService
}> = async (app, { db, sessions, workspaces, memberships }) => {
  app.post(
    '/internal/introspect',
    {
      config: { access: 'internal' },
      // The contract both sides compile against (@gatehouse/server session-reach.ts).
      schema: { hide: true, body: IntrospectionRequest, response: { 200: IntrospectionAnswer, 401: ErrorRef } },
    },
    async (request): Promise<IntrospectionAnswer> => {
      const signedIn = await sessions.findByCookie(request.body.sessionToken)
      if (!signedIn) throw errors.unauthenticated()
      const { user } = signedIn
      const account = accountAuthentication(signedIn)
      let workspace: IntrospectionAnswer['workspace'] = null
      if (request.body.workspaceId) {
        // Membership of an email is answered only for a well-formed one (otherwise null).
        const email = (request.body.email && normalizeEmail(request.body.email)) || undefined
        const access = await findWorkspaceAccess(db, request.body.workspaceId, user.id, email)
        if (access) {
          const reachedBy = access.role ? workspaceAuthentication(signedIn, access.workspace.id, access) : undefined
          workspace = {
            id: access.workspace.id,
            name: access.workspace.name,
            role: access.role,
            emailIsMember: access.emailIsMember,
            reachedBy: reachedBy ? authenticationView(reachedBy) : null,
            signIn: signInFor(access),
          }
        }
      }
      return {
        user: { id: user.id, email: user.email, createdVia: user.createdVia, createdAt: user.createdAt.toISOString() },
        authentications: signedIn.authentications.map(authenticationView),
        account: account ? authenticationView(account) : null,
        workspace,
      }
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
        body: Type.Object({ sessionToken: Type.String({ maxLength: 1024 }), workspaceId: Uuid, userId: Uuid }),
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      const signedIn = await sessions.findByCookie(request.body.sessionToken)
      if (!signedIn) throw errors.unauthenticated()
      const { workspaceId, userId } = request.body
      const granted = await workspaces.authorize(workspaceId, signedIn, adminRoles)
      await memberships.remove(workspaceId, userId, { userId: signedIn.user.id, session: granted.session })
      return reply.status(204).send(null)
    },
  )
}
