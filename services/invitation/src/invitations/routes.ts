import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorRef, perNetwork, rateLimit, Uuid } from '@gatehouse/server/http'
import { InvitationProofAnswer, InvitationProofRequest } from '@gatehouse/server/internal'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import type { InvitationRow } from '../db/schema.ts'
import { invitationErrors } from '../errors.ts'
import type { AuthClient } from '../sessions/auth-client.ts'
import { type Identify, type InvitationService, statusOf } from './service.ts'

const Role = Type.Union([Type.Literal('member'), Type.Literal('admin')])
const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('accepted'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
])
const DateTime = Type.String({ format: 'date-time' })
// base64url of 32 bytes is 43 characters; anything else cannot be one of ours.
const Token = Type.String({ minLength: 1, maxLength: 128 })

const Invitation = Type.Object({
  id: Uuid,
  workspaceId: Uuid,
  email: Type.String(),
  role: Role,
  status: Status,
  invitedBy: Uuid,
  createdAt: DateTime,
  expiresAt: DateTime,
  acceptedAt: Type.Optional(DateTime),
  revokedAt: Type.Optional(DateTime),
})

export const invitationRoutes: FastifyPluginAsyncTypebox<{
  invitations: InvitationService
  auth: AuthClient
  now: () => Date
  redis: Redis
}> = async (app, deps) => {
  const invitationView = (invitation: InvitationRow) => ({
    id: invitation.id,
    workspaceId: invitation.workspaceId,
    email: invitation.email,
    role: invitation.role,
    status: statusOf(invitation, deps.now()),
    invitedBy: invitation.invitedBy,
    createdAt: invitation.createdAt.toISOString(),
    expiresAt: invitation.expiresAt.toISOString(),
    ...(invitation.acceptedAt ? { acceptedAt: invitation.acceptedAt.toISOString() } : {}),
    ...(invitation.revokedAt ? { revokedAt: invitation.revokedAt.toISOString() } : {}),
  })
  const identify = (request: FastifyRequest): Identify =>
    Object.assign((about?: { workspaceId?: string; email?: string }) => deps.auth.require(request, about), {
      ip: request.ip,
    })
  const { invitations } = deps
  // The workspace is named by the body, the query or the invitation: the service asks auth about
  // that very workspace (what the session reaches there and the caller's role) before anything else.
  const workspaceAdmin = { access: { workspace: 'admin' } } as const
  // One limit for accepting, by the link or from the home page.
  const acceptLimit = rateLimit(deps.redis, [perNetwork('invitation-accept', 30)])
  const acceptRefusals =
    '410 `expired`, `revoked`, or `workspace_deleted` (the workspace is gone: auth deleted it with the unproven account that alone owned it, once that address was reclaimed).'

  app.post(
    '/v1/invitations',
    {
      config: workspaceAdmin,
      schema: {
        tags: ['invitations'],
        summary: 'Invite an email into a workspace (owner or admin); the email is queued',
        description:
          '410 `workspace_deleted` when auth deleted the workspace (with the unproven account that alone owned it) while the invitation was being sent.',
        body: Type.Object({ workspaceId: Uuid, email: Type.String({ maxLength: 320 }), role: Role }),
        response: {
          201: Type.Object({ invitation: Invitation }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
          409: ErrorRef,
          410: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const invitation = await invitations.invite(identify(request), request.body)
      return reply.status(201).send({ invitation: invitationView(invitation) })
    },
  )

  app.get(
    '/v1/invitations',
    {
      config: workspaceAdmin,
      schema: {
        tags: ['invitations'],
        summary: "A workspace's invitations, newest first (owner or admin)",
        querystring: Type.Object({ workspaceId: Uuid }),
        response: { 200: Type.Object({ invitations: Type.Array(Invitation) }), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const rows = await invitations.list(identify(request), request.query.workspaceId)
      return { invitations: rows.map(invitationView) }
    },
  )

  app.post(
    '/v1/invitations/:invitationId/resend',
    {
      config: workspaceAdmin,
      schema: {
        tags: ['invitations'],
        summary: 'Send the email again with a new link; the previous link stops working',
        params: Type.Object({ invitationId: Uuid }),
        response: { 202: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      await invitations.resend(identify(request), request.params.invitationId)
      return reply.status(202).send(null)
    },
  )

  app.delete(
    '/v1/invitations/:invitationId',
    {
      config: workspaceAdmin,
      schema: {
        tags: ['invitations'],
        summary: 'Revoke a pending invitation, or remove the membership an accepted one made',
        description:
          'For an accepted invitation this is removing that member (DELETE /v1/workspaces/:workspaceId/members/:userId in auth, with its rules and refusals: 403 `role_not_manageable`, 409 `last_owner`); the invitation then shows `revoked` with `revokedAt`.',
        params: Type.Object({ invitationId: Uuid }),
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      await invitations.revoke(
        identify(request),
        (membership) => deps.auth.removeMember(request, membership),
        request.params.invitationId,
      )
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/invitations/lookup',
    {
      config: { access: 'public' },
      // Guessing a 256-bit token is hopeless, but probing costs us a query: bound it per client.
      preHandler: rateLimit(deps.redis, [perNetwork('invitation-lookup', 60)]),
      schema: {
        tags: ['invitations'],
        summary: 'What an invitation link is for (no session needed)',
        body: Type.Object({ token: Token }),
        response: {
          200: Type.Object({
            workspaceName: Type.String(),
            inviterEmail: Type.String(),
            email: Type.String(),
            role: Role,
            status: Status,
            expiresAt: DateTime,
          }),
          404: ErrorRef,
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      const invitation = await invitations.lookup(request.body.token)
      return {
        workspaceName: invitation.workspaceName,
        inviterEmail: invitation.inviterEmail,
        email: invitation.email,
        role: invitation.role,
        status: statusOf(invitation, deps.now()),
        expiresAt: invitation.expiresAt.toISOString(),
      }
    },
  )

  app.post(
    '/v1/invitations/accept',
    {
      config: { access: 'password' },
      preHandler: acceptLimit,
      schema: {
        tags: ['invitations'],
        summary: 'Accept with the session of the invited password account',
        description: acceptRefusals,
        body: Type.Object({ token: Token }),
        response: {
          200: Type.Object({ invitation: Invitation }),
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
          409: ErrorRef,
          410: ErrorRef,
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      const invitation = await invitations.accept(identify(request), request.body.token)
      return { invitation: invitationView(invitation) }
    },
  )

  app.get(
    '/v1/invitations/mine',
    {
      config: { access: 'password' },
      schema: {
        tags: ['invitations'],
        summary: 'The open invitations waiting for the signed-in person’s proven address (their home page)',
        description:
          'Empty, with `addressProven: false`, until the account’s address is proven: an account anyone could have made with an address sees nothing sent to it.',
        response: {
          200: Type.Object({
            addressProven: Type.Boolean(),
            invitations: Type.Array(
              Type.Object({
                id: Uuid,
                workspaceId: Uuid,
                workspaceName: Type.String(),
                inviterEmail: Type.String(),
                role: Role,
                expiresAt: DateTime,
              }),
            ),
          }),
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const { addressProven, invitations: open } = await invitations.mine(identify(request))
      return {
        addressProven,
        invitations: open.map((invitation) => ({
          id: invitation.id,
          workspaceId: invitation.workspaceId,
          workspaceName: invitation.workspaceName,
          inviterEmail: invitation.inviterEmail,
          role: invitation.role,
          expiresAt: invitation.expiresAt.toISOString(),
        })),
      }
    },
  )

  app.post(
    '/v1/invitations/:invitationId/accept',
    {
      config: { access: 'password' },
      preHandler: acceptLimit,
      schema: {
        tags: ['invitations'],
        summary: 'Accept, from the home page, an invitation sent to the signed-in person’s proven address',
        description: acceptRefusals,
        params: Type.Object({ invitationId: Uuid }),
        response: {
          200: Type.Object({ invitation: Invitation }),
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
          409: ErrorRef,
          410: ErrorRef,
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      const invitation = await invitations.acceptById(identify(request), request.params.invitationId)
      return { invitation: invitationView(invitation) }
    },
  )

  app.post(
    '/internal/invitations/proof',
    {
      // Auth asks (bearer INTERNAL_TOKEN) whether a link is live: its holder proved the address.
      config: { access: 'internal' },
      schema: {
        hide: true,
        body: InvitationProofRequest,
        response: { 200: InvitationProofAnswer, 401: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const email = await invitations.provenAddress(request.body.token)
      if (!email) throw invitationErrors.invalidToken()
      return { email }
    },
  )
}
