import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorRef, Uuid, WorkspaceParams } from '../http-schemas.ts'
import { auditActorFrom } from '../sessions/access.ts'
import { type DomainService, domainClaimView } from './service.ts'

const DomainClaim = Type.Object({
  domain: Type.String({ description: 'Lower-case ASCII (an IDN is shown as punycode).' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('verified')]),
  txtRecord: Type.Object(
    {
      name: Type.String({ description: 'Where to publish it: `_gatehouse-challenge.<domain>`.' }),
      value: Type.String({ description: 'The TXT value: `gatehouse-verification=<token>`.' }),
    },
    { description: 'The DNS TXT record that proves the workspace controls the domain.' },
  ),
  createdAt: Type.String({ format: 'date-time' }),
  verifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})
const DomainParams = Type.Object({ workspaceId: Uuid, domain: Type.String({ minLength: 1, maxLength: 253 }) })
const errorsOf = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef }

/**
 * Email domains a workspace claims (owner only). A verified claim sends discovery for that
 * domain's emails to the workspace's SSO connection.
 */
export const domainRoutes: FastifyPluginAsyncTypebox<{ domains: DomainService }> = async (app, { domains }) => {
  // A claim sends everyone at the domain to the workspace's IdP: the owner's decision alone.
  const config = { access: { workspace: 'owner' } } as const
  app.get(
    '/v1/workspaces/:workspaceId/domains',
    {
      config,
      schema: {
        tags: ['domains'],
        summary: "The workspace's domain claims, pending and verified (owner only)",
        params: WorkspaceParams,
        response: { 200: Type.Object({ domains: Type.Array(DomainClaim) }), ...errorsOf },
      },
    },
    async (request) => {
      const claims = await domains.list(request.params.workspaceId)
      return { domains: claims.map(domainClaimView) }
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/domains',
    {
      config,
      schema: {
        tags: ['domains'],
        summary: 'Claim an email domain (owner only): answers the TXT record to publish before verifying',
        description:
          'Claiming a domain the workspace already claims answers the same claim. 409 `domain_taken` when another workspace has verified it, `domain_limit` past 20 claims.',
        params: WorkspaceParams,
        body: Type.Object({ domain: Type.String({ minLength: 1, maxLength: 253 }) }),
        response: { 201: Type.Object({ domain: DomainClaim }), ...errorsOf },
      },
    },
    async (request, reply) => {
      const claim = await domains.claim(request.params.workspaceId, auditActorFrom(request), request.body.domain)
      return reply.status(201).send({ domain: domainClaimView(claim) })
    },
  )

  app.post(
    '/v1/workspaces/:workspaceId/domains/:domain/verify',
    {
      config,
      schema: {
        tags: ['domains'],
        summary: 'Look the TXT record up and, when it holds the value, mark the claim verified (owner only)',
        description:
          '409 `domain_not_verified` (with `reason`: `no_record`, `record_mismatch` or `lookup_failed`, and the `txtRecord` expected) when the record is not there yet; 409 `domain_taken` when another workspace verified the domain first.',
        params: DomainParams,
        response: { 200: Type.Object({ domain: DomainClaim }), ...errorsOf },
      },
    },
    async (request) => {
      const claim = await domains.verify(request.params.workspaceId, auditActorFrom(request), request.params.domain)
      return { domain: domainClaimView(claim) }
    },
  )

  app.delete(
    '/v1/workspaces/:workspaceId/domains/:domain',
    {
      config,
      schema: {
        tags: ['domains'],
        summary: 'Give the claim up (owner only); discovery stops routing the domain at once',
        params: DomainParams,
        response: { 204: Type.Null(), ...errorsOf },
      },
    },
    async (request, reply) => {
      await domains.remove(request.params.workspaceId, auditActorFrom(request), request.params.domain)
      return reply.status(204).send(null)
    },
  )
}
