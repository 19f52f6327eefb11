import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, normalizeEmail } from '@gatehouse/server'
import { Type } from 'typebox'
import { ErrorRef, Uuid } from '../http-schemas.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { SessionService } from '../sessions/service.ts'
import { findWorkspaceAccess } from '../workspaces/repo.ts'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Service-to-service calls (bearer INTERNAL_TOKEN), e.g. the invitation service asking who a
 * session is. Never exposed through the web gateway.
 */
export const internalRoutes: FastifyPluginAsyncTypebox<{
  db: AuthDatabase
  sessions: SessionService
  internalToken: string
}> = async (app, { db, sessions, internalToken }) => {
  const expected = digest(internalToken)
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization ?? ''
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
    // Compare digests so the comparison is constant-time whatever the token's length.
    if (!timingSafeEqual(digest(token), expected)) throw errors.unauthenticated('A valid internal token is required.')
  })

  app.post(
    '/internal/introspect',
    {
      schema: {
        hide: true,
        body: Type.Object({
          sessionToken: Type.String({ maxLength: 128 }),
          workspaceId: Type.Optional(Uuid),
          email: Type.Optional(Type.String({ maxLength: 320 })),
        }),
        response: {
          200: Type.Object({
            user: Type.Object({ id: Uuid, email: Type.String(), createdVia: Type.String() }),
            workspace: Type.Union([
              Type.Object({
                id: Uuid,
                name: Type.String(),
                role: Type.Union([Type.String(), Type.Null()]),
                emailIsMember: Type.Union([Type.Boolean(), Type.Null()]),
              }),
              Type.Null(),
            ]),
          }),
          401: ErrorRef,
        },
      },
    },
    async (request) => {
      const signedIn = await sessions.findByToken(request.body.sessionToken)
      if (!signedIn) throw errors.unauthenticated()
      const { user } = signedIn
      let workspace = null
      if (request.body.workspaceId) {
        // Membership of an email is answered only for a well-formed one (otherwise null).
        const email = (request.body.email && normalizeEmail(request.body.email)) || undefined
        const access = await findWorkspaceAccess(db, request.body.workspaceId, user.id, email)
        if (access) {
          const { id, name } = access.workspace
          workspace = { id, name, role: access.role, emailIsMember: access.emailIsMember }
        }
      }
      return { user: { id: user.id, email: user.email, createdVia: user.createdVia }, workspace }
    },
  )
}
