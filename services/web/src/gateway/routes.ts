import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import replyFrom from '@fastify/reply-from'
import { gatewaySecretHeader } from '@gatehouse/server/http'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RawServerBase, RouteGenericInterface } from 'fastify'
import { confirmationPage } from '../pages/confirmation.ts'
import { refusalPage } from '../pages/refusal.ts'

export interface GatewayOptions {
  authUrl: URL
  invitationUrl: URL
  publicUrl: URL
  /** `GATEWAY_SECRET`: added to every forwarded request, so the services believe its X-Forwarded-For. */
  gatewaySecret?: string | undefined
}

/**
 * The same-origin gateway of CONTRACT.md: `/v1/invitations*` to the invitation service, the rest
 * of `/v1` and `/sso` to auth. Bodies stream through unparsed; cookies, Set-Cookie, Location and
 * content types pass both ways. Nothing else is forwarded, so `/internal/*` never leaves the
 * private network.
 */
export const gatewayRoutes: FastifyPluginAsync<GatewayOptions> = async (app, options) => {
  await app.register(upstreamRoutes, {
    name: 'invitation',
    base: options.invitationUrl,
    publicUrl: options.publicUrl,
    gatewaySecret: options.gatewaySecret,
    paths: ['/v1/invitations', '/v1/invitations/*'],
  })
  await app.register(upstreamRoutes, {
    name: 'auth',
    base: options.authUrl,
    publicUrl: options.publicUrl,
    gatewaySecret: options.gatewaySecret,
    paths: ['/v1/*', '/sso/*'],
  })
}

interface UpstreamOptions {
  name: string
  base: URL
  publicUrl: URL
  gatewaySecret?: string | undefined
  paths: string[]
}

const forwardedMethods = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']
// Headers a client could use to pose as someone else to the services behind the gateway.
const clientForwardingHeaders = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  gatewaySecretHeader,
]
const refusalBodyLimit = 64 * 1024
// The largest body any service behind the gateway reads (the services' default, and the ACS form).
const gatewayBodyLimit = 1024 * 1024
// Hop-by-hop request headers that describe how the client sent its body, not the body itself:
// the gateway has read the body whole and sends it with a Content-Length of its own. undici
// refuses `expect` outright (curl sends `Expect: 100-continue` for bodies over 1 MiB; Node's
// server has already answered 100 Continue to the client).
const bodyFramingHeaders = ['expect', 'transfer-encoding', 'content-length']
// Hop-by-hop headers (RFC 9110 7.6.1) describe the client's connection to the gateway, not the
// gateway's to the service: undici refuses a request carrying `keep-alive` (an old client's or
// proxy's), which would make any such request a 502 blamed on the service.
const hopByHopHeaders = ['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']

type ProxiedReply = FastifyReply<RouteGenericInterface, RawServerBase>
interface UpstreamResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  stream: IncomingMessage
}

const upstreamRoutes: FastifyPluginAsync<UpstreamOptions> = async (app, options) => {
  // Encapsulated: only these routes see raw bodies, which reach the service as they came. They are
  // read here first, up to the services' own limit: an oversized body gets 413 payload_too_large
  // from the gateway, before any byte goes upstream (streamed, the service's early 413 cut the
  // stream and the client saw 502, EPIPE or a hang).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: gatewayBodyLimit }, (_request, body, done) =>
    done(null, body),
  )
  await app.register(replyFrom, {
    base: options.base.origin,
    disableRequestLogging: true,
    undici: { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 },
  })

  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    if (!isPlainPath(request.url)) {
      return reply.status(400).send({ error: 'bad_request', message: 'This path is not allowed.' })
    }
    const browserPage = showsPages(request)
    const body = Buffer.isBuffer(request.body) ? request.body : undefined
    return reply.from(undefined, {
      ...(body && { body, contentType: request.headers['content-type'] ?? 'application/octet-stream' }),
      // The services answer for themselves; a retry of a refused or failed request would double it.
      retryDelay: () => null,
      rewriteRequestHeaders: (_request, headers) => {
        const forwarded: Record<string, string | string[] | undefined> = { ...headers }
        for (const name of clientForwardingHeaders) delete forwarded[name]
        for (const name of [...bodyFramingHeaders, ...hopByHopHeaders]) delete forwarded[name]
        if (body) forwarded['content-length'] = String(body.length)
        forwarded['x-forwarded-for'] = request.ip
        forwarded['x-forwarded-proto'] = options.publicUrl.protocol.slice(0, -1)
        forwarded['x-request-id'] = request.id
        if (options.gatewaySecret) forwarded[gatewaySecretHeader] = options.gatewaySecret
        if (browserPage) {
          // Ask for the refusal as JSON, so this app renders it as its own page.
          forwarded.accept = 'application/json'
          delete forwarded['accept-encoding']
        }
        return forwarded
      },
      onResponse: (_request, upstreamReply, rawResponse) => {
        // reply-from's types call the upstream response a ServerResponse; it is the client side's.
        const response = rawResponse as unknown as UpstreamResponse
        const contentType = String(response.headers['content-type'] ?? '')
        if (browserPage && response.statusCode === 200 && contentType.startsWith('application/json')) {
          // A sign-in waiting for the person's confirmation (unsolicited, or started by another
          // site): shown as this app's page.
          readLimited(response.stream, refusalBodyLimit).then(
            (text) => sendConfirmationOr(upstreamReply, text),
            () => sendRefusalPage(upstreamReply, 502, {}),
          )
          return
        }
        if (!browserPage || response.statusCode < 400 || !contentType.startsWith('application/json')) {
          return upstreamReply.send(response.stream)
        }
        readLimited(response.stream, refusalBodyLimit).then(
          (text) => sendRefusalPage(upstreamReply, response.statusCode, parseErrorBody(text)),
          () => sendRefusalPage(upstreamReply, response.statusCode, {}),
        )
      },
      onError: (failedReply, { error }) => {
        request.log.warn({ err: error, upstream: options.name }, 'upstream did not answer')
        const status = (error as { statusCode?: number }).statusCode === 504 ? 504 : 502
        const body = {
          error: 'upstream_unavailable',
          message: `The ${options.name} service is not answering. Try again in a moment.`,
        }
        if (browserPage) return sendRefusalPage(failedReply, status, body)
        return failedReply.status(status).send(body)
      },
    })
  }

  for (const url of options.paths) app.route({ method: forwardedMethods, url, handler })
}

/** The confirmation page for auth's `{confirmationRequired}` answer; any other JSON as it came. */
function sendConfirmationOr(reply: ProxiedReply, text: string) {
  const body = parseErrorBody(text) as Record<string, unknown>
  reply.removeHeader('content-length')
  reply.removeHeader('content-encoding')
  const { email, workspaceName, action, confirmation } = body
  if (
    body.confirmationRequired !== true ||
    typeof email !== 'string' ||
    typeof workspaceName !== 'string' ||
    typeof action !== 'string' ||
    typeof confirmation !== 'string'
  ) {
    return reply.send(text)
  }
  return reply.type('text/html; charset=utf-8').send(confirmationPage({ email, workspaceName, action, confirmation }))
}

function sendRefusalPage(
  reply: ProxiedReply,
  status: number,
  body: { error?: unknown; message?: unknown; reason?: unknown },
) {
  reply.removeHeader('content-length')
  reply.removeHeader('content-encoding')
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(
      refusalPage({
        code: typeof body.error === 'string' ? body.error : 'sign_in_failed',
        message: typeof body.message === 'string' ? body.message : undefined,
        reason: typeof body.reason === 'string' ? body.reason : undefined,
      }),
    )
}

// Browsers navigating to /sso/... get pages; API clients that ask for JSON get the service's JSON.
function showsPages(request: FastifyRequest): boolean {
  return request.url.startsWith('/sso/') && !String(request.headers.accept ?? '').includes('application/json')
}

/**
 * A path the services will read as written: no `.`/`..` segments (plain or percent-encoded), no
 * backslashes, no control characters — so `/v1/../internal/...` cannot reach a route the gateway
 * does not forward.
 */
export function isPlainPath(url: string): boolean {
  const path = url.split('?')[0] ?? ''
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    return false
  }
  if (decoded.includes('\\')) return false
  for (const character of decoded) if (character.charCodeAt(0) < 0x20 || character === '\u007f') return false
  return !decoded.split('/').some((segment) => segment === '.' || segment === '..')
}

async function readLimited(stream: AsyncIterable<Buffer | string>, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    length += buffer.length
    if (length > limit) throw new Error('error body too large')
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseErrorBody(text: string): { error?: unknown; message?: unknown; reason?: unknown } {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null ? parsed : {}
  } catch {
    return {}
  }
}
