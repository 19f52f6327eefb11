import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { actorOf } from '../sessions/access.ts'
import type { MembershipActor, MembershipService } from './service.ts'

const MemberParams = Type.Object({ ...WorkspaceParams.properties, userId: Uuid })
const Role = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')])
const refusals = { 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef }

const membershipActor = (request: FastifyRequest): MembershipActor => {
  const actor = actorOf(request)
  return { userId: actor.user.id, session: actor.session }
}

/** Removing members, changing roles, leaving and transferring the ownership of a workspace. */
export const membershipRoutes: FastifyPluginAsyncTypebox<{ memberships: MembershipService }> = async (
  app,
  { memberships },
) => {
  app.delete(
    '/v1/workspaces/:workspaceId/members/:userId',
    {
      config: { access: { workspace: 'admin' } },
      schema: {
        tags: ['memberships'],
        summary: 'Remove a member (owners: anyone but the last owner; admins: members)',
        description:
          'Their sessions opened by the workspace’s SSO end at once and their next SSO into it is refused (403 `sso_not_allowed`) until they are invited again and accept. Their password sign-in stays for their other workspaces. Removing oneself is leaving.',
        params: MemberParams,
        response: { 204: Type.Null(), ...refusals },
      },
    },
    async (request, reply) => {
      const { workspaceId, userId } = request.params
      await memberships.remove(workspaceId, userId, membershipActor(request))
      return reply.status(204).send(null)
    },
  )

  app.patch(
    '/v1/workspaces/:workspaceId/members/:userId',
    {
      config: { access: { workspace: 'owner' } },
      schema: {
        tags: ['memberships'],
        summary: 'Change a member’s role (owners only; the last owner cannot be demoted)',
        params: MemberParams,
        body: Type.Object({ role: Role }),
        response: { 200: Type.Object({ userId: Uuid, role: Role }), ...refusals },
      },
    },
    async (request) => {
      const { workspaceId, userId } = request.params
      const role = await memberships.changeRole(workspaceId, userId, request.body.role, membershipActor(request))
      return { userId, role }
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/leave',
    {
      config: { access: { workspace: 'member' } },
      schema: {
        tags: ['memberships'],
        summary: 'Leave the workspace (its last owner transfers the ownership first)',
        params: WorkspaceParams,
        response: { 204: Type.Null(), ...refusals },
      },
    },
    async (request, reply) => {
      await memberships.leave(request.params.workspaceId, membershipActor(request))
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/ownership',
    {
      config: { access: { workspace: 'owner' } },
      schema: {
        tags: ['memberships'],
        summary: 'Transfer the ownership to another member; the owner becomes an admin',
        params: WorkspaceParams,
        body: Type.Object({ userId: Uuid }),
        response: { 204: Type.Null(), ...refusals },
      },
    },
    async (request, reply) => {
      await memberships.transferOwnership(request.params.workspaceId, request.body.userId, membershipActor(request))
      return reply.status(204).send(null)
    },
  )
}
