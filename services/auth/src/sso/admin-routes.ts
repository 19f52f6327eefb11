import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { actorOf, workspaceOf } from '../sessions/access.ts'
import type { ConnectionActor, ConnectionService } from './connections.ts'

const Certificate = Type.Object({
  fingerprintSha256: Type.String(),
  subject: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
})

const Connection = Type.Object({
  id: Uuid,
  workspaceId: Uuid,
  enabled: Type.Boolean(),
  allowIdpInitiated: Type.Boolean(),
  sp: Type.Object({
    entityId: Type.String({ description: "Entra's Identifier (Entity ID)" }),
    acsUrl: Type.String({ description: "Entra's Reply URL (Assertion Consumer Service URL)" }),
    metadataUrl: Type.String(),
    loginUrl: Type.String(),
  }),
  idp: Type.Union([
    Type.Object({ ssoUrl: Type.String(), entityId: Type.String(), certificates: Type.Array(Certificate) }),
    Type.Null(),
  ]),
  status: Type.Union([Type.Literal('awaiting_idp'), Type.Literal('active'), Type.Literal('disabled')]),
  warnings: Type.Optional(Type.Array(Type.String())),
})
const connectionActor = (request: FastifyRequest): ConnectionActor => {
  const { user, session } = actorOf(request)
  return { userId: user.id, role: workspaceOf(request).role, session }
}

const ConnectionBody = Type.Object({ connection: Connection })

const IdpBody = Type.Union([
  Type.Object(
    {
      ssoUrl: Type.String({ maxLength: 2048, description: "Entra's Login URL" }),
      entityId: Type.String({ maxLength: 1024, description: "Entra's Microsoft Entra Identifier" }),
      certificate: Type.String({
        maxLength: 65_536,
        description: "Entra's Certificate (Base64), with or without PEM armour",
      }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { metadataXml: Type.String({ maxLength: 1_048_576, description: 'Federation metadata XML' }) },
    { additionalProperties: false },
  ),
])

export const ssoAdminRoutes: FastifyPluginAsyncTypebox<{ connections: ConnectionService }> = async (
  app,
  { connections },
) => {
  // Only an owner or admin of this very workspace, through a sign-in that reaches it.
  const config = { access: { workspace: 'admin' } } as const
  const errorsOf = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef }

  app.post(
    '/v1/workspaces/:workspaceId/sso',
    { config, schema: { tags: ['sso'], params: WorkspaceParams, response: { 201: ConnectionBody, ...errorsOf } } },
    async (request, reply) => {
      const connection = await connections.turnOn(request.params.workspaceId, connectionActor(request))
      return reply.status(201).send({ connection })
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId/sso',
    { config, schema: { tags: ['sso'], params: WorkspaceParams, response: { 200: ConnectionBody, ...errorsOf } } },
    async (request) => {
      return { connection: await connections.get(request.params.workspaceId) }
    },
  )

  app.put(
    '/v1/workspaces/:workspaceId/sso/idp',
    {
      config,
      schema: { tags: ['sso'], params: WorkspaceParams, body: IdpBody, response: { 200: ConnectionBody, ...errorsOf } },
    },
    async (request) => {
      return {
        connection: await connections.setIdp(request.params.workspaceId, connectionActor(request), request.body),
      }
    },
  )

  app.patch(
    '/v1/workspaces/:workspaceId/sso',
    {
      config,
      schema: {
        tags: ['sso'],
        params: WorkspaceParams,
        body: Type.Object({ enabled: Type.Optional(Type.Boolean()), allowIdpInitiated: Type.Optional(Type.Boolean()) }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      return {
        connection: await connections.update(request.params.workspaceId, connectionActor(request), request.body),
      }
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/sso',
    { config, schema: { tags: ['sso'], params: WorkspaceParams, response: { 204: Type.Null(), ...errorsOf } } },
    async (request, reply) => {
      await connections.remove(request.params.workspaceId, connectionActor(request))
      return reply.status(204).send(null)
    },
  )
}
