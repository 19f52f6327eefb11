import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { METADATA_XML_LIMITS } from '@gatehouse/saml'
import { rateLimit } from '@gatehouse/server'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import type { SessionService } from '../sessions/service.ts'
import { adminRoles, type WorkspaceService } from '../workspaces/service.ts'
import type { ConnectionService } from './connections.ts'

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
const ConnectionBody = Type.Object({ connection: Connection })

const uuidPattern = new RegExp((Uuid as { pattern?: string }).pattern ?? '')

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
    { metadataXml: Type.String({ description: 'Federation metadata XML, at most 256 KiB (packages/saml README)' }) },
    { additionalProperties: false },
  ),
])

export const ssoAdminRoutes: FastifyPluginAsyncTypebox<{
  sessions: SessionService
  workspaces: WorkspaceService
  connections: ConnectionService
  redis: Redis
  changesPerHour: number
}> = async (app, { sessions, workspaces, connections, redis, changesPerHour }) => {
  type Request = Parameters<SessionService['require']>[0]
  // Permission first, in every handler: only an owner or admin of this very workspace.
  const authorizeAdmin = async (request: Request, workspaceId: string) => {
    const { user } = await sessions.require(request)
    await workspaces.authorize(workspaceId, user.id, adminRoles)
    return user
  }
  // Any self-registered user owns a workspace, and each change may parse up to the metadata
  // limits (packages/saml README): changes are counted per account and per workspace,
  // before the body is read, so a refused change costs no JSON or XML parsing.
  const countChange = async (request: FastifyRequest) => {
    const { workspaceId } = request.params as { workspaceId: string }
    if (!uuidPattern.test(workspaceId)) return // the params schema refuses it
    const user = await authorizeAdmin(request, workspaceId)
    await rateLimit(redis, [
      { name: 'sso-change:account', limit: changesPerHour, windowSeconds: 3600, key: () => user.id },
      { name: 'sso-change:workspace', limit: changesPerHour, windowSeconds: 3600, key: () => workspaceId },
    ])(request)
  }
  const errorsOf = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 429: ErrorRef }

  app.post(
    '/v1/workspaces/:workspaceId/sso',
    {
      onRequest: countChange,
      schema: { tags: ['sso'], params: WorkspaceParams, response: { 201: ConnectionBody, ...errorsOf } },
    },
    async (request, reply) => {
      const user = await authorizeAdmin(request, request.params.workspaceId)
      const connection = await connections.turnOn(request.params.workspaceId, user.id)
      return reply.status(201).send({ connection })
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId/sso',
    { schema: { tags: ['sso'], params: WorkspaceParams, response: { 200: ConnectionBody, ...errorsOf } } },
    async (request) => {
      await authorizeAdmin(request, request.params.workspaceId)
      return { connection: await connections.get(request.params.workspaceId) }
    },
  )

  app.put(
    '/v1/workspaces/:workspaceId/sso/idp',
    {
      onRequest: countChange,
      // Metadata is at most 256 KiB (METADATA_XML_LIMITS), twice that once escaped into JSON.
      bodyLimit: 2 * METADATA_XML_LIMITS.bytes,
      schema: { tags: ['sso'], params: WorkspaceParams, body: IdpBody, response: { 200: ConnectionBody, ...errorsOf } },
    },
    async (request) => {
      const user = await authorizeAdmin(request, request.params.workspaceId)
      return { connection: await connections.setIdp(request.params.workspaceId, user.id, request.body) }
    },
  )

  app.patch(
    '/v1/workspaces/:workspaceId/sso',
    {
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        params: WorkspaceParams,
        body: Type.Object({ enabled: Type.Optional(Type.Boolean()), allowIdpInitiated: Type.Optional(Type.Boolean()) }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const user = await authorizeAdmin(request, request.params.workspaceId)
      return { connection: await connections.update(request.params.workspaceId, user.id, request.body) }
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/sso',
    {
      onRequest: countChange,
      schema: { tags: ['sso'], params: WorkspaceParams, response: { 204: Type.Null(), ...errorsOf } },
    },
    async (request, reply) => {
      const user = await authorizeAdmin(request, request.params.workspaceId)
      await connections.remove(request.params.workspaceId, user.id)
      return reply.status(204).send(null)
    },
  )
}
