import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { actorOf, auditActorFrom, workspaceOf } from '../sessions/access.ts'
import type { WorkspaceRow } from './repo.ts'
import type { WorkspaceService } from './service.ts'

const Workspace = Type.Object({ id: Uuid, name: Type.String(), createdAt: Type.String({ format: 'date-time' }) })
const workspaceView = (workspace: WorkspaceRow) => ({
  id: workspace.id,
  name: workspace.name,
  createdAt: workspace.createdAt.toISOString(),
})

export const workspaceRoutes: FastifyPluginAsyncTypebox<{ workspaces: WorkspaceService }> = async (
  app,
  { workspaces },
) => {
  app.post(
    '/v1/workspaces',
    {
      // A new workspace belongs to the account: another workspace's IdP may not make one.
      config: { access: 'password' },
      schema: {
        tags: ['workspaces'],
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) }),
        response: { 201: Type.Object({ workspace: Workspace }), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const workspace = await workspaces.create(request.body.name, auditActorFrom(request), actorOf(request).session.id)
      return reply.status(201).send({ workspace: workspaceView(workspace) })
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId',
    {
      config: { access: { workspace: 'member' } },
      schema: {
        tags: ['workspaces'],
        params: WorkspaceParams,
        response: { 200: Type.Object({ workspace: Workspace }), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      return { workspace: workspaceView(workspaceOf(request).row) }
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId/members',
    {
      config: { access: { workspace: 'member' } },
      schema: {
        tags: ['workspaces'],
        params: WorkspaceParams,
        response: {
          200: Type.Object({
            members: Type.Array(
              Type.Object({
                userId: Uuid,
                email: Type.String(),
                firstName: Type.Union([Type.String(), Type.Null()]),
                lastName: Type.Union([Type.String(), Type.Null()]),
                role: Type.String(),
                ssoAllowed: Type.Boolean(),
                source: Type.String({ description: '`creator` or `invitation`' }),
                joinedAt: Type.String({ format: 'date-time' }),
              }),
            ),
          }),
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request) => {
      const members = await workspaces.members(request.params.workspaceId)
      return { members: members.map((member) => ({ ...member, joinedAt: member.joinedAt.toISOString() })) }
    },
  )
}
