import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '@gatehouse/server'
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

const emailFromAttributeDescription =
  'Take the email from an attribute (http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress, mail, email or urn:oid:0.9.2342.19200300.100.1.3) instead of the NameID, whose format may then be anything (persistent, transient: the defaults of Okta and ADFS). The address must still be valid, and every email attribute must name the same one. Default false.'
const allowSha1Description =
  'Accept RSA-SHA1 signatures and SHA-1 digests from this IdP. WARNING: SHA-1 is broken (chosen-prefix collisions are practical), so a response signed with it proves less; turn it on only for a legacy IdP that cannot sign with SHA-256, and off again as soon as it can. Only the workspace owner may turn it on (403 otherwise). Default false.'

const Connection = Type.Object({
  id: Uuid,
  workspaceId: Uuid,
  enabled: Type.Boolean(),
  allowIdpInitiated: Type.Boolean(),
  emailFromAttribute: Type.Boolean({ description: emailFromAttributeDescription }),
  allowSha1: Type.Boolean({ description: allowSha1Description }),
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

export const ssoAdminRoutes: FastifyPluginAsyncTypebox<{
  sessions: SessionService
  workspaces: WorkspaceService
  connections: ConnectionService
}> = async (app, { sessions, workspaces, connections }) => {
  // Permission first, in every handler: only an owner or admin of this very workspace.
  const authorizeAdmin = async (request: Parameters<SessionService['require']>[0], workspaceId: string) => {
    const { user } = await sessions.require(request)
    await workspaces.authorize(workspaceId, user.id, adminRoles)
    return user
  }
  const errorsOf = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef }

  app.post(
    '/v1/workspaces/:workspaceId/sso',
    { schema: { tags: ['sso'], params: WorkspaceParams, response: { 201: ConnectionBody, ...errorsOf } } },
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
      schema: {
        tags: ['sso'],
        params: WorkspaceParams,
        body: Type.Object({
          enabled: Type.Optional(Type.Boolean()),
          allowIdpInitiated: Type.Optional(Type.Boolean()),
          emailFromAttribute: Type.Optional(Type.Boolean({ description: emailFromAttributeDescription })),
          allowSha1: Type.Optional(Type.Boolean({ description: allowSha1Description })),
        }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const user = await authorizeAdmin(request, request.params.workspaceId)
      // A weaker signature check lowers what every member's sign-in rests on: the owner's call alone.
      if (request.body.allowSha1) {
        const { role } = await workspaces.authorize(request.params.workspaceId, user.id, adminRoles)
        if (role !== 'owner') throw errors.forbidden('Only the workspace owner can allow SHA-1 signatures.')
      }
      return { connection: await connections.update(request.params.workspaceId, user.id, request.body) }
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/sso',
    { schema: { tags: ['sso'], params: WorkspaceParams, response: { 204: Type.Null(), ...errorsOf } } },
    async (request, reply) => {
      const user = await authorizeAdmin(request, request.params.workspaceId)
      await connections.remove(request.params.workspaceId, user.id)
      return reply.status(204).send(null)
    },
  )
}
