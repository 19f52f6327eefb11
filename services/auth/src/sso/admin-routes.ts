import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { METADATA_XML_LIMITS } from '@gatehouse/saml'
import { AppError, errors } from '@gatehouse/server/errors'
import { perNetwork, rateLimit } from '@gatehouse/server/http'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { authErrors } from '../errors.ts'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { actorOf, workspaceOf } from '../sessions/access.ts'
import type { ConnectionActor, ConnectionService } from './connections.ts'
import { type IdpKind, idpKinds } from './idp-kinds.ts'
import type { MetadataRefresh } from './metadata-refresh.ts'

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

const signAuthnRequestsDescription =
  'Sign AuthnRequests (HTTP-Redirect binding, RSA-SHA256 detached signature: SigAlg and Signature over SAMLRequest, RelayState and SigAlg as saml-bindings 3.4.4.1 says) with the connection\'s SP signing key, and say AuthnRequestsSigned="true" in the SP metadata. Turned on when imported IdP metadata says WantAuthnRequestsSigned="true"; otherwise off until an admin turns it on.'

const SpSigningCertificate = Type.Object({
  id: Uuid,
  fingerprintSha256: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
  createdAt: Type.String(),
  signing: Type.Boolean({ description: 'This key signs AuthnRequests now; the others are published until retired.' }),
})

const MetadataProblem = Type.Object({
  kind: Type.Union([Type.Literal('unreadable'), Type.Literal('change_refused')]),
  reason: Type.String(),
  message: Type.String({ description: 'What is wrong and what to do, as the owners were emailed' }),
  since: Type.String(),
})

const MetadataSource = Type.Object(
  {
    url: Type.String(),
    checkedAt: Type.Union([Type.String(), Type.Null()]),
    readAt: Type.Union([Type.String(), Type.Null()]),
    problem: Type.Union([MetadataProblem, Type.Null()]),
  },
  {
    description:
      "The IdP's federation metadata URL when the IdP was set from one: re-read every 12 hours (and on POST …/sso/idp/metadata/refresh). A refresh adds new certificates beside the current ones; it never removes one, and refuses another entity ID or Login URL (`problem`) until an admin saves the URL again.",
  },
)

export const IdpKindSchema = Type.Unsafe<IdpKind>({
  type: 'string',
  enum: [...idpKinds],
  description:
    'The identity provider the connection is set up with: picks the setup guidance and the advice refusals give (IdP-neutral unless `entra`); it changes no SAML check. Default `entra`.',
})

const Connection = Type.Object({
  id: Uuid,
  workspaceId: Uuid,
  enabled: Type.Boolean(),
  allowIdpInitiated: Type.Boolean(),
  requireSso: Type.Boolean({
    description: 'Members reach the workspace only through its SSO (the owner keeps a recovery path)',
  }),
  emailFromAttribute: Type.Boolean({ description: emailFromAttributeDescription }),
  allowSha1: Type.Boolean({ description: allowSha1Description }),
  signAuthnRequests: Type.Boolean({ description: signAuthnRequestsDescription }),
  idpKind: IdpKindSchema,
  sp: Type.Object({
    entityId: Type.String({ description: "Entra's Identifier (Entity ID)" }),
    acsUrl: Type.String({ description: "Entra's Reply URL (Assertion Consumer Service URL)" }),
    metadataUrl: Type.String(),
    loginUrl: Type.String(),
    signingCertificates: Type.Array(SpSigningCertificate, {
      description:
        'The SP signing certificates published in the SP metadata (KeyDescriptor use="signing"; the certificates themselves are there), newest first; the one with `signing: true` signs AuthnRequests.',
    }),
  }),
  idp: Type.Union([
    Type.Object({
      ssoUrl: Type.String(),
      entityId: Type.String(),
      certificates: Type.Array(Certificate),
      wantAuthnRequestsSigned: Type.Boolean({
        description: 'The imported IdP metadata says WantAuthnRequestsSigned="true"; signing was then turned on.',
      }),
      metadata: Type.Union([MetadataSource, Type.Null()]),
    }),
    Type.Null(),
  ]),
  status: Type.Union([Type.Literal('awaiting_idp'), Type.Literal('active'), Type.Literal('disabled')]),
  warnings: Type.Optional(Type.Array(Type.String())),
})
const connectionActor = (request: FastifyRequest): ConnectionActor => {
  const { user, session } = actorOf(request)
  return { userId: user.id, role: workspaceOf(request).role, session, ip: request.ip }
}

export const ConnectionBody = Type.Object({ connection: Connection })

/** `?optional=true`: a page asking whether SSO is set up gets `{connection: null}` instead of a 404. */
export const OptionalConnection = {
  querystring: Type.Object({
    optional: Type.Optional(
      Type.Literal('true', {
        description:
          'Answer 200 `{connection: null}` instead of 404 `sso_not_configured` when SSO was never turned on.',
      }),
    ),
  }),
  response: Type.Object({ connection: Type.Union([Connection, Type.Null()]) }),
}

export const IdpBody = Type.Union([
  Type.Object(
    {
      ssoUrl: Type.String({ maxLength: 2048, description: "Entra's Login URL" }),
      entityId: Type.String({ maxLength: 1024, description: "Entra's Microsoft Entra Identifier" }),
      certificate: Type.String({
        maxLength: 65_536,
        description: "Entra's Certificate (Base64), with or without PEM armour",
      }),
      idpKind: Type.Optional(IdpKindSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      metadataXml: Type.String({ description: 'Federation metadata XML, at most 256 KiB (packages/saml README)' }),
      idpKind: Type.Optional(IdpKindSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      metadataUrl: Type.String({
        maxLength: 2048,
        description:
          "The IdP's federation metadata URL (Entra: App Federation Metadata Url), https only. Read now (public addresses only, no redirects, at most 256 KiB within 10 s: 400 `invalid_metadata_url` with a `reason` otherwise) and re-read every 12 hours.",
      }),
      idpKind: Type.Optional(IdpKindSchema),
    },
    { additionalProperties: false },
  ),
])

const RefreshResult = Type.Object({
  outcome: Type.Union([
    Type.Literal('unchanged'),
    Type.Literal('certificates_added'),
    Type.Literal('signing_changed'),
    Type.Literal('unreadable'),
    Type.Literal('change_refused'),
  ]),
  fingerprints: Type.Optional(Type.Array(Type.String(), { description: 'The certificates added' })),
  wantAuthnRequestsSigned: Type.Optional(
    Type.Boolean({
      description:
        'The metadata changed whether the IdP wants signed requests (applied: asked, requests are signed from now on)',
    }),
  ),
  problem: Type.Optional(MetadataProblem),
})

export const ssoAdminRoutes: FastifyPluginAsyncTypebox<{
  connections: ConnectionService
  metadataRefresh: MetadataRefresh
  redis: Redis
  changesPerHour: number
}> = async (app, { connections, metadataRefresh, redis, changesPerHour }) => {
  // Only an owner or admin of this very workspace, through a sign-in that reaches it.
  const config = { access: { workspace: 'admin' } } as const
  // Any self-registered user owns a workspace, and each change may parse up to the metadata
  // limits (packages/saml README): changes are counted per account and per workspace, before the
  // body is read (onRequest, after the access hook), so a refused change costs no JSON or XML parsing.
  const countChange = async (request: FastifyRequest) => {
    const actor = connectionActor(request)
    const workspaceId = workspaceOf(request).row.id
    try {
      await rateLimit(redis, [
        { name: 'sso-change:account', limit: changesPerHour, windowSeconds: 3600, key: () => actor.userId },
        { name: 'sso-change:workspace', limit: changesPerHour, windowSeconds: 3600, key: () => workspaceId },
      ])(request)
    } catch (error) {
      // Nor reading it: keeping the connection would mean reading up to 512 KiB to throw away, for
      // a client that goes on sending refused uploads as fast as it is answered.
      if (error instanceof AppError && request.headers['content-length'] !== '0') error.headers.connection = 'close'
      throw error
    }
  }
  const errorsOf = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 429: ErrorRef }

  app.post(
    '/v1/workspaces/:workspaceId/sso',
    {
      config,
      onRequest: countChange,
      schema: { tags: ['sso'], params: WorkspaceParams, response: { 201: ConnectionBody, ...errorsOf } },
    },
    async (request, reply) => {
      const connection = await connections.turnOn(request.params.workspaceId, connectionActor(request))
      return reply.status(201).send({ connection })
    },
  )

  app.get(
    '/v1/workspaces/:workspaceId/sso',
    {
      config,
      schema: {
        tags: ['sso'],
        params: WorkspaceParams,
        querystring: OptionalConnection.querystring,
        response: { 200: OptionalConnection.response, ...errorsOf },
      },
    },
    async (request) => {
      const { workspaceId } = request.params
      if (request.query.optional) return { connection: await connections.find(workspaceId) }
      return { connection: await connections.get(workspaceId) }
    },
  )

  app.put(
    '/v1/workspaces/:workspaceId/sso/idp',
    {
      config,
      onRequest: countChange,
      // Metadata is at most 256 KiB (METADATA_XML_LIMITS), twice that once escaped into JSON.
      bodyLimit: 2 * METADATA_XML_LIMITS.bytes,
      schema: {
        tags: ['sso'],
        description:
          'The values or metadata are parsed on a thread of their own, one upload at a time with 8 waiting at most: past that, 503 `service_unavailable` with Retry-After.',
        params: WorkspaceParams,
        body: IdpBody,
        response: { 200: ConnectionBody, ...errorsOf, 503: ErrorRef },
      },
    },
    async (request) => {
      const actor = connectionActor(request)
      return { connection: await connections.setIdp(request.params.workspaceId, actor, request.body) }
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/sso/idp/metadata/refresh',
    {
      config,
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        summary: "Re-read the IdP's metadata URL now",
        description:
          'What the 12-hourly refresh does, on demand: new certificates in the metadata are added beside the current ones (announced to the owners, audited); another entity ID or Login URL is refused and reported (`change_refused`); an unreadable URL is reported (`unreadable`). Either problem is emailed to the owners once. 409 `metadata_url_not_set` when the IdP was not set from a metadata URL.',
        params: WorkspaceParams,
        response: { 200: Type.Object({ connection: Connection, refresh: RefreshResult }), ...errorsOf },
      },
    },
    async (request) => {
      const { workspaceId } = request.params
      const { id } = await connections.get(workspaceId)
      const refresh = await metadataRefresh.refresh(id)
      if (refresh.outcome === 'not_configured') throw authErrors.metadataUrlNotSet()
      return { connection: await connections.get(workspaceId), refresh }
    },
  )

  app.patch(
    '/v1/workspaces/:workspaceId/sso',
    {
      config,
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        params: WorkspaceParams,
        body: Type.Object({
          enabled: Type.Optional(Type.Boolean()),
          allowIdpInitiated: Type.Optional(Type.Boolean()),
          requireSso: Type.Optional(
            Type.Boolean({
              description:
                'Members reach the workspace only through its SSO. Turning it on needs an active connection and an SSO sign-in through it in the last 10 minutes (409 `sso_sign_in_required`).',
            }),
          ),
          emailFromAttribute: Type.Optional(Type.Boolean({ description: emailFromAttributeDescription })),
          allowSha1: Type.Optional(Type.Boolean({ description: allowSha1Description })),
          signAuthnRequests: Type.Optional(Type.Boolean({ description: signAuthnRequestsDescription })),
          idpKind: Type.Optional(IdpKindSchema),
        }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const actor = connectionActor(request)
      // A weaker signature check lowers what every member's sign-in rests on: the owner's call alone.
      if (request.body.allowSha1 && actor.role !== 'owner') {
        throw errors.forbidden('Only the workspace owner can allow SHA-1 signatures.')
      }
      return { connection: await connections.update(request.params.workspaceId, actor, request.body) }
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/sso/signing-keys',
    {
      config,
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        summary: 'Rotate the SP signing key',
        description:
          'Creates a new SP signing key (RSA 3072, self-signed certificate) that signs AuthnRequests from now on. The earlier keys stay published in the SP metadata (the overlap period) until retired with DELETE, so an IdP that reads the metadata trusts both meanwhile; an IdP given the certificate by hand needs the new one before then. At most 3 keys are published (409 `signing_key_limit`).',
        params: WorkspaceParams,
        response: { 201: ConnectionBody, ...errorsOf },
      },
    },
    async (request, reply) => {
      const connection = await connections.rotateSigningKey(request.params.workspaceId, connectionActor(request))
      return reply.status(201).send({ connection })
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/sso/signing-keys/:keyId',
    {
      config,
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        summary: 'Retire an SP signing key',
        description:
          'Ends the overlap of a rotation: the key leaves the SP metadata. The key that signs now cannot be retired (409 `signing_key_in_use`).',
        params: Type.Object({ workspaceId: Uuid, keyId: Uuid }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const { workspaceId, keyId } = request.params
      return { connection: await connections.retireSigningKey(workspaceId, connectionActor(request), keyId) }
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/sso/recovery',
    {
      // A password sign-in, not the workspace's reach: this is the way in when SSO is required and fails.
      config: { access: 'password' },
      preHandler: rateLimit(redis, [perNetwork('sso-recovery', 10)]),
      schema: {
        tags: ['sso'],
        summary: "The owner's recovery of a workspace that requires SSO",
        description:
          'The owner re-enters their password; this password session then reaches the workspace although it requires SSO. Each use is audited (`sso.owner_recovery`) and emailed to the other owners and the admins (`sso.recovery.used`).',
        params: WorkspaceParams,
        body: Type.Object({ password: Type.String({ maxLength: 1024 }) }),
        response: { 204: Type.Null(), ...errorsOf },
      },
    },
    async (request, reply) => {
      const { user, session } = actorOf(request)
      await connections.recoverAsOwner(
        request.params.workspaceId,
        { userId: user.id, passwordHash: user.passwordHash, sessionId: session.id, ip: request.ip },
        request.body.password,
      )
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/sso/idp/certificates',
    {
      config,
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        summary: 'Add an IdP certificate beside the current ones',
        description:
          'Certificate rollover, first half: responses signed with any configured certificate verify, so the IdP may switch to its new certificate whenever it likes. Remove the old one afterwards (DELETE). Every auth replica uses the change from its next sign-in. Like every change of who the IdP is, only the owner, or an admin who re-entered their password in the last 5 minutes, may make it (403 `password_confirmation_required`); the owners are told (`sso.connection.changed`, `certificate_added`). 400 `invalid_certificate` (with `fields.certificate`), 409 `certificate_exists`, `certificate_limit` (10), `idp_not_configured`.',
        params: WorkspaceParams,
        body: Type.Object(
          {
            certificate: Type.String({
              maxLength: 65_536,
              description:
                "The IdP's new signing certificate (Entra's Certificate (Base64)), with or without PEM armour",
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: ConnectionBody, ...errorsOf },
      },
    },
    async (request, reply) => {
      const { workspaceId } = request.params
      const actor = connectionActor(request)
      const connection = await connections.addIdpCertificate(workspaceId, actor, request.body.certificate)
      return reply.status(201).send({ connection })
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/sso/idp/certificates/:fingerprint',
    {
      config,
      onRequest: countChange,
      schema: {
        tags: ['sso'],
        summary: 'Remove an IdP certificate',
        description:
          'Certificate rollover, second half: responses signed with this certificate are refused from the next sign-in on, on every replica. The only certificate cannot be removed (409 `last_certificate`). The owner, or an admin who re-entered their password in the last 5 minutes (403 otherwise).',
        params: Type.Object({
          workspaceId: Uuid,
          fingerprint: Type.String({
            pattern: '^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$',
            description: 'SHA-256 fingerprint (`fingerprintSha256`), colons optional',
          }),
        }),
        response: { 200: ConnectionBody, ...errorsOf },
      },
    },
    async (request) => {
      const { workspaceId, fingerprint } = request.params
      return { connection: await connections.removeIdpCertificate(workspaceId, connectionActor(request), fingerprint) }
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/sso',
    {
      config,
      onRequest: countChange,
      schema: { tags: ['sso'], params: WorkspaceParams, response: { 204: Type.Null(), ...errorsOf } },
    },
    async (request, reply) => {
      await connections.remove(request.params.workspaceId, connectionActor(request))
      return reply.status(204).send(null)
    },
  )
}
