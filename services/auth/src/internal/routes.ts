import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, IntrospectionAnswer, IntrospectionRequest, normalizeEmail } from '@gatehouse/server'
import { ErrorRef } from '../http-schemas.ts'
import { accountAuthentication, signInFor, workspaceAuthentication } from '../sessions/reach.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { authenticationView, type SessionService } from '../sessions/service.ts'
import { findWorkspaceAccess } from '../workspaces/repo.ts'

/**
 * Service-to-service calls (bearer INTERNAL_TOKEN), e.g. the invitation service asking who a
 * session is and what it reaches. Never exposed through the web gateway.
 */
export const internalRoutes: FastifyPluginAsyncTypebox<{
  db: AuthDatabase
  sessions: SessionService
}> = async (app, { db, sessions }) => {
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
        user: {
          id: user.id,
          email: user.email,
          createdVia: user.createdVia,
          createdAt: user.createdAt.toISOString(),
          emailConfirmed: user.emailConfirmedAt !== null,
        },
        authentications: signedIn.authentications.map(authenticationView),
        account: account ? authenticationView(account) : null,
        workspace,
      }
    },
  )
}
