import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { METADATA_XML_LIMITS } from '@gatehouse/saml'
import { perNetwork, rateLimit } from '@gatehouse/server/http'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { auditActorFrom, workspaceOf } from '../sessions/access.ts'
import { ConnectionBody, IdpBody, IdpKindSchema, OptionalConnection } from '../sso/admin-routes.ts'
import type { ConnectionService } from '../sso/connections.ts'
import type { LoginFlow } from '../sso/login-flow.ts'
import { pendingLoginCookies } from '../sso/pending-logins.ts'
import type { TestSignIns } from '../sso/test-sign-in.ts'
import { TestSignInResult, TestSignInStart } from '../sso/test-sign-in-routes.ts'
import { auditActorOfLink, connectionActorOfLink, type SetupLinkHolder, type SetupLinkService } from './service.ts'

const SetupLink = Type.Object({
  id: Uuid,
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  openedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
})

const errorsOf = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 429: ErrorRef }

/** The link a `setup_link` route was authorized by (sessions/access.ts). */
function holderOf(request: FastifyRequest): SetupLinkHolder {
  if (!request.setupLink) throw new Error(`${request.routeOptions.url} was not authorized by a setup link`)
  return request.setupLink
}

/**
 * Setup links: the owner's routes to create, list and revoke them, and the routes their holder
 * reaches — the workspace's SSO setup and nothing else (`config.access: 'setup_link'`, the token in
 * `x-setup-token`).
 */
export const setupLinkRoutes: FastifyPluginAsyncTypebox<{
  setupLinks: SetupLinkService
  connections: ConnectionService
  loginFlow: LoginFlow
  testSignIns: TestSignIns
  redis: Redis
  https: boolean
  changesPerHour: number
}> = async (app, { setupLinks, connections, loginFlow, testSignIns, redis, https, changesPerHour }) => {
  const pendingLogins = pendingLoginCookies({ https })
  const owner = { access: { workspace: 'owner' } } as const
  app.post(
    '/v1/workspaces/:workspaceId/setup-links',
    {
      config: owner,
      schema: {
        tags: ['setup-links'],
        summary: "Create a setup link for the customer's IT admin",
        description:
          "A link (7 days, revocable) that lets someone without an account open this workspace's SSO setup only: copy Gatehouse's values, paste the IdP's, run a test sign-in, see the status. `url` is shown once; its token is in the fragment and stored hashed. Whoever holds it sets the IdP with the consent of the owner who created it; everything done through it is audited and mailed to that owner. Owners only; at most 5 live links (409 `setup_link_limit`).",
        params: WorkspaceParams,
        response: {
          201: Type.Object({ setupLink: Type.Intersect([SetupLink, Type.Object({ url: Type.String() })]) }),
          ...errorsOf,
        },
      },
    },
    async (request, reply) => {
      const setupLink = await setupLinks.create(workspaceOf(request).row.id, auditActorFrom(request))
      return reply.status(201).send({ setupLink })
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId/setup-links',
    {
      config: owner,
      schema: {
        tags: ['setup-links'],
        summary: "The workspace's setup links (never their tokens)",
        params: WorkspaceParams,
        response: { 200: Type.Object({ setupLinks: Type.Array(SetupLink) }), ...errorsOf },
      },
    },
    async (request) => ({ setupLinks: await setupLinks.list(workspaceOf(request).row.id) }),
  )

  app.delete(
    '/v1/workspaces/:workspaceId/setup-links/:linkId',
    {
      config: owner,
      schema: {
        tags: ['setup-links'],
        summary: 'Revoke a setup link',
        description: 'The link stops working at once. 404 when there is no live link by that id.',
        params: Type.Object({ workspaceId: Uuid, linkId: Uuid }),
        response: { 204: Type.Null(), ...errorsOf },
      },
    },
    async (request, reply) => {
      await setupLinks.revoke(workspaceOf(request).row.id, auditActorFrom(request), request.params.linkId)
      return reply.status(204).send(null)
    },
  )

  // What the holder reaches. Changes count against the workspace's SSO change limit, like an admin's.
  const setup = { access: 'setup_link' } as const
  const countChange = rateLimit(redis, [
    {
      name: 'sso-change:workspace',
      limit: changesPerHour,
      windowSeconds: 3600,
      key: (request: FastifyRequest) => holderOf(request).workspaceId,
    },
  ])
  const setupDescription = 'Setup link holders only (`x-setup-token`).'

  app.get(
    '/v1/setup',
    {
      config: setup,
      schema: {
        tags: ['setup-links'],
        summary: 'What a setup link opens',
        description: `The workspace and until when the link works. The first use is audited and mailed to the owner. ${setupDescription}`,
        response: {
          200: Type.Object({
            workspace: Type.Object({ id: Uuid, name: Type.String() }),
            expiresAt: Type.String({ format: 'date-time' }),
          }),
          ...errorsOf,
        },
      },
    },
    async (request) => {
      const holder = holderOf(request)
      await setupLinks.opened(holder, request.ip)
      return {
        workspace: { id: holder.workspaceId, name: holder.workspaceName },
        expiresAt: holder.expiresAt.toISOString(),
      }
    },
  )

  app.get(
    '/v1/setup/sso',
    {
      config: setup,
      schema: {
        tags: ['setup-links'],
        summary: "The workspace's SSO connection",
        description: `As \`GET /v1/workspaces/:id/sso\` (with \`?optional=true\` too). ${setupDescription}`,
        querystring: OptionalConnection.querystring,
        response: { 200: OptionalConnection.response, ...errorsOf },
      },
    },
    async (request) => {
      const { workspaceId } = holderOf(request)
      if (request.query.optional) return { connection: await connections.find(workspaceId) }
      return { connection: await connections.get(workspaceId) }
    },
  )

  app.post(
    '/v1/setup/sso',
    {
      config: setup,
      onRequest: countChange,
      schema: {
        tags: ['setup-links'],
        summary: 'Turn SSO on',
        description: `As \`POST /v1/workspaces/:id/sso\`; the owner is emailed. ${setupDescription}`,
        response: { 201: ConnectionBody, ...errorsOf },
      },
    },
    async (request, reply) => {
      const holder = holderOf(request)
      const connection = await connections.turnOn(holder.workspaceId, connectionActorOfLink(holder, request.ip))
      await setupLinks.used(holder, 'sso_turned_on', request.ip)
      return reply.status(201).send({ connection })
    },
  )

  app.put(
    '/v1/setup/sso/idp',
    {
      config: setup,
      onRequest: countChange,
      bodyLimit: 2 * METADATA_XML_LIMITS.bytes,
      schema: {
        tags: ['setup-links'],
        summary: "Paste the IdP's values",
        description: `As \`PUT /v1/workspaces/:id/sso/idp\`, with the consent of the owner who created the link; the owners are emailed (\`sso.connection.changed\`, acting through a setup link). ${setupDescription}`,
        body: IdpBody,
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const holder = holderOf(request)
      const actor = connectionActorOfLink(holder, request.ip)
      return { connection: await connections.setIdp(holder.workspaceId, actor, request.body) }
    },
  )

  app.patch(
    '/v1/setup/sso',
    {
      config: setup,
      onRequest: countChange,
      schema: {
        tags: ['setup-links'],
        summary: 'Choose the identity provider (setup guidance)',
        description: `Only \`idpKind\`: the link does not turn SSO off, require it, or change its other options. ${setupDescription}`,
        body: Type.Object({ idpKind: IdpKindSchema }, { additionalProperties: false }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const holder = holderOf(request)
      const actor = connectionActorOfLink(holder, request.ip)
      return { connection: await connections.update(holder.workspaceId, actor, { idpKind: request.body.idpKind }) }
    },
  )

  app.post(
    '/v1/setup/sso/test',
    {
      config: setup,
      preHandler: rateLimit(redis, [perNetwork('sso-start', 120)]),
      schema: {
        tags: ['setup-links'],
        summary: 'Start a test sign-in',
        description: `As \`POST /v1/workspaces/:id/sso/test\`; the result is the link's own, and the owner is emailed. ${setupDescription}`,
        response: { 200: TestSignInStart, ...errorsOf },
      },
    },
    async (request, reply) => {
      const holder = holderOf(request)
      const { id } = await connections.get(holder.workspaceId)
      const { redirectUrl, relayState, pending } = await loginFlow.start(id, {
        test: {
          workspaceId: holder.workspaceId,
          tester: `link:${holder.id}`,
          actor: auditActorOfLink(holder, request.ip),
          returnTo: '/setup',
        },
      })
      await setupLinks.used(holder, 'test_sign_in', request.ip)
      pendingLogins.keep(request, reply, relayState, pending)
      return { redirectUrl }
    },
  )

  app.get(
    '/v1/setup/sso/test',
    {
      config: setup,
      schema: {
        tags: ['setup-links'],
        summary: 'The latest test sign-in result of this link',
        description: setupDescription,
        response: { 200: Type.Object({ testSignIn: Type.Union([TestSignInResult, Type.Null()]) }), ...errorsOf },
      },
    },
    async (request) => {
      const holder = holderOf(request)
      return { testSignIn: await testSignIns.latest(holder.workspaceId, `link:${holder.id}`) }
    },
  )
}
