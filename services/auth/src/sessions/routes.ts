import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorRef, Uuid } from '../http-schemas.ts'
import { actorOf } from './access.ts'
import type { AccountSessions } from './account-sessions.ts'
import { deviceOf } from './devices.ts'

const DateTime = Type.String({ format: 'date-time' })
const Session = Type.Object({
  id: Uuid,
  method: Type.Union([Type.Literal('password'), Type.Literal('saml')]),
  workspaceId: Type.Union([Uuid, Type.Null()], { description: 'The workspace a SAML session reaches (only it)' }),
  workspaceName: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
  lastSeenAt: DateTime,
  device: Type.Object({
    browser: Type.Union([Type.String(), Type.Null()]),
    os: Type.Union([Type.String(), Type.Null()]),
    description: Type.String(),
  }),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'Whether this browser holds it' }),
})

/**
 * The account's sessions. Access is `password`: the account is off-limits to a session a
 * workspace's IdP made (CONTRACT.md), and this list names the person's other workspaces, places and
 * devices, and ending them reaches beyond that workspace.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ accountSessions: AccountSessions }> = async (
  app,
  { accountSessions },
) => {
  app.get(
    '/v1/auth/sessions',
    {
      config: { access: 'password' },
      schema: {
        tags: ['sessions'],
        summary: 'The account’s live sessions, newest first: how each was authenticated and what it reaches',
        response: { 200: Type.Object({ sessions: Type.Array(Session) }), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const rows = await accountSessions.list(actorOf(request).signedIn)
      return {
        sessions: rows.map(({ session, workspaceName, current }) => ({
          id: session.id,
          method: session.method,
          workspaceId: session.method === 'saml' ? session.workspaceId : null,
          workspaceName: session.method === 'saml' ? workspaceName : null,
          createdAt: session.createdAt.toISOString(),
          lastSeenAt: session.lastSeenAt.toISOString(),
          device: deviceOf(session.userAgent),
          ip: session.ip,
          current,
        })),
      }
    },
  )

  app.delete(
    '/v1/auth/sessions/:sessionId',
    {
      config: { access: 'password' },
      schema: {
        tags: ['sessions'],
        summary: 'End one of the account’s sessions (`auth.logout`, reason `ended_elsewhere`)',
        params: Type.Object({ sessionId: Uuid }),
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      await accountSessions.end(actorOf(request).signedIn, request.params.sessionId)
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/auth/sessions/end-others',
    {
      config: { access: 'password' },
      schema: {
        tags: ['sessions'],
        summary: 'End every session of the account except those this browser holds',
        response: { 200: Type.Object({ ended: Type.Integer() }), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => ({ ended: await accountSessions.endOthers(actorOf(request).signedIn) }),
  )
}
