// Service-to-service calls (ARCHITECTURE.md: facts cross boundaries as events or a small internal
// HTTP call, bearer INTERNAL_TOKEN): the caller's JSON poster and the callee's token check, once.
import { createHash, timingSafeEqual } from 'node:crypto'
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { FastifyRequest } from 'fastify'
import { type Static, Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { errors } from '../errors.ts'

/**
 * POSTs JSON over kept-alive connections. node:http rather than fetch: a call costs a fraction of
 * the CPU (fetch's streams, signals and Response objects cost ~0.3 ms a call here), and nearly
 * every invitation request makes one.
 */
export function internalJsonPoster(url: URL, bearerToken: string, timeoutMs: number) {
  const https = url.protocol === 'https:'
  const send = https ? httpsRequest : httpRequest
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true })
  return (payload: unknown, requestId?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = send(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${bearerToken}`,
            'content-type': 'application/json',
            ...(requestId && { 'x-request-id': requestId }),
          },
          signal: AbortSignal.timeout(timeoutMs),
        },
        (incoming) => {
          let body = ''
          incoming.setEncoding('utf8')
          incoming.on('data', (chunk: string) => {
            body += chunk
          })
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body }))
          incoming.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(JSON.stringify(payload))
    })
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** The check of an `internal` route: 401 unless the request carries INTERNAL_TOKEN as its bearer. */
export function internalTokenCheck(internalToken: string) {
  const expected = digest(internalToken)
  return (request: FastifyRequest): void => {
    const header = request.headers.authorization ?? ''
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
    // Compare digests so the comparison is constant-time whatever the token's length.
    if (!timingSafeEqual(digest(token), expected)) throw errors.unauthenticated('A valid internal token is required.')
  }
}

/**
 * Auth asks the invitation service whether an invitation token is a live one, and for which
 * address: holding the link proves the address (an account made from it is proven; its owner may
 * reclaim an unproven account holding that address). Both sides compile against this contract.
 */
export const InvitationProofRequest = Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) })
export const InvitationProofAnswer = Type.Object({ email: Type.String({ maxLength: 320 }) })
export type InvitationProofAnswer = Static<typeof InvitationProofAnswer>

const proofCheck = Compile(InvitationProofAnswer)

/** The invitation service's answer, or undefined when the value is not one. */
export function parseInvitationProof(value: unknown): InvitationProofAnswer | undefined {
  return proofCheck.Check(value) ? (value as InvitationProofAnswer) : undefined
}
