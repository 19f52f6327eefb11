import assert from 'node:assert/strict'
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { inProcessPressureLimits } from '@gatehouse/testing'
import type { FastifyInstance } from 'fastify'
import { buildApp as buildWebApp } from '../src/app.ts'
import { loadConfig, type WebConfig } from '../src/config.ts'

const buildApp = (config: WebConfig) => buildWebApp(config, { pressureLimits: inProcessPressureLimits })

import { isPlainPath } from '../src/gateway/routes.ts'

interface SeenRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/** A real HTTP server standing in for a service: records what reached it and answers as told. */
async function startUpstream(name: string) {
  const seen: SeenRequest[] = []
  let answer = (request: SeenRequest, response: import('node:http').ServerResponse) => {
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ upstream: name, method: request.method, url: request.url, body: request.body }))
  }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const recorded = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      seen.push(recorded)
      answer(recorded, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answerWith: (handler: typeof answer) => {
      answer = handler
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** An upstream answer that shows the headers the gateway passed on. */
const echoHeaders = (request: { headers: IncomingHttpHeaders }, response: ServerResponse) => {
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify(request.headers))
}

describe('the same-origin gateway', () => {
  let auth: Awaited<ReturnType<typeof startUpstream>>
  let invitation: Awaited<ReturnType<typeof startUpstream>>
  let app: FastifyInstance

  before(async () => {
    auth = await startUpstream('auth')
    invitation = await startUpstream('invitation')
    app = await buildApp(
      loadConfig({ AUTH_URL: auth.url, INVITATION_URL: invitation.url, PUBLIC_URL: 'https://app.example.test' }),
    )
  })
  after(async () => {
    await app.close()
    await auth.close()
    await invitation.close()
  })

  it("compiles every route's request and response schemas (which the app compiles on first use)", () => {
    assert.deepEqual(app.routeSchemaProblems(), [])
  })

  it('sends /v1/invitations and everything under it to the invitation service, with the query string', async () => {
    for (const url of ['/v1/invitations?workspaceId=w1', '/v1/invitations/lookup', '/v1/invitations/abc/resend']) {
      const response = await app.inject({ method: 'POST', url, payload: { token: 't' } })
      assert.equal(response.json().upstream, 'invitation', url)
      assert.equal(response.json().url, url)
    }
  })

  it('sends the rest of /v1 and /sso to auth, a look-alike prefix included', async () => {
    for (const url of ['/v1/auth/session', '/v1/workspaces/w1/sso', '/v1/invitationsx', '/sso/saml/c1/metadata']) {
      const response = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } })
      assert.equal(response.json().upstream, 'auth', url)
    }
  })

  it('passes the body through byte for byte, and cookies, Set-Cookie, Location and content type both ways', async () => {
    auth.answerWith((request, response) => {
      response.statusCode = 302
      response.setHeader('set-cookie', ['session=abc; HttpOnly; Path=/; SameSite=Lax', 'saml_binding=; Max-Age=0'])
      response.setHeader('location', 'https://idp.example.test/saml2?SAMLRequest=x')
      response.setHeader('content-type', 'text/plain; charset=utf-8')
      response.end(`got ${request.headers['content-type']} ${request.body} cookie=${request.headers.cookie}`)
    })
    const form = 'SAMLResponse=PHNhbWw%2BIA%3D%3D&RelayState=r%26s'
    const response = await app.inject({
      method: 'POST',
      url: '/sso/saml/c1/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'saml_binding=signed.value' },
      payload: form,
    })
    assert.equal(response.statusCode, 302)
    assert.deepEqual(response.headers['set-cookie'], [
      'session=abc; HttpOnly; Path=/; SameSite=Lax',
      'saml_binding=; Max-Age=0',
    ])
    assert.equal(response.headers.location, 'https://idp.example.test/saml2?SAMLRequest=x')
    assert.equal(response.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(response.body, `got application/x-www-form-urlencoded ${form} cookie=saml_binding=signed.value`)
  })

  it('tells the services the client address itself, dropping forwarding headers the client made up', async () => {
    auth.answerWith(echoHeaders)
    const response = await app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      remoteAddress: '203.0.113.9',
      headers: { 'x-forwarded-for': '10.0.0.1', forwarded: 'for=10.0.0.1', 'x-real-ip': '10.0.0.1' },
    })
    const headers = response.json()
    assert.equal(headers['x-forwarded-for'], '203.0.113.9')
    assert.equal(headers['x-forwarded-proto'], 'https')
    assert.equal(headers.forwarded, undefined)
    assert.equal(headers['x-real-ip'], undefined)
    assert.equal(headers['x-request-id'], response.headers['x-request-id'])
  })

  it("keeps the client's hop-by-hop headers (Keep-Alive, Upgrade, Proxy-Authorization...) to itself", async () => {
    auth.answerWith(echoHeaders)
    const response = await app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: {
        'keep-alive': 'timeout=5, max=100',
        'proxy-connection': 'keep-alive',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        te: 'gzip',
        trailer: 'x-checksum',
        upgrade: 'websocket',
      },
    })
    assert.equal(response.statusCode, 200, response.body)
    const headers = response.json()
    for (const name of ['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']) {
      assert.equal(headers[name], undefined, name)
    }
  })

  it("behind a proxy it trusts (TRUST_PROXY), tells the services the client's address from that proxy", async () => {
    const proxied = await buildApp(
      loadConfig({
        AUTH_URL: auth.url,
        INVITATION_URL: invitation.url,
        PUBLIC_URL: 'https://app.example.test',
        TRUST_PROXY: '10.0.0.0/8',
      }),
    )
    try {
      auth.answerWith(echoHeaders)
      const viaIngress = await proxied.inject({
        method: 'GET',
        url: '/v1/auth/session',
        remoteAddress: '10.1.2.3',
        headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' },
      })
      // The rightmost address the trusted proxy did not add itself is the client.
      assert.equal(viaIngress.json()['x-forwarded-for'], '203.0.113.9')
      const direct = await proxied.inject({
        method: 'GET',
        url: '/v1/auth/session',
        remoteAddress: '203.0.113.50',
        headers: { 'x-forwarded-for': '198.51.100.7' },
      })
      assert.equal(direct.json()['x-forwarded-for'], '203.0.113.50', 'an untrusted peer cannot pose as another')
    } finally {
      await proxied.close()
    }
  })

  it('never forwards /internal, nor paths that climb out of /v1 or /sso', async () => {
    const before = auth.seen.length + invitation.seen.length
    const internal = await app.inject({ method: 'POST', url: '/internal/sessions/introspect', payload: {} })
    assert.equal(internal.statusCode, 404)
    // Over a real socket: inject() would tidy the path up before the gateway saw it.
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    for (const path of ['/v1/../internal/sessions', '/v1/%2e%2e/internal/sessions', '/sso/..%2Finternal', '/v1/a\\b']) {
      const response = await rawRequest(port, path)
      assert.equal(response.status, 400, path)
      assert.equal(JSON.parse(response.body).error, 'bad_request')
    }
    assert.equal(auth.seen.length + invitation.seen.length, before)
  })

  it('streams a JSON body through to the service over a real socket', { timeout: 10_000 }, async () => {
    // The proxied routes take the raw request stream as their body; nothing may walk into it.
    auth.answerWith((request, response) => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ upstream: 'auth', method: request.method, url: request.url, body: request.body }))
    })
    const listening = await buildApp(loadConfig({ AUTH_URL: auth.url, INVITATION_URL: invitation.url }))
    await listening.listen({ port: 0, host: '127.0.0.1' })
    try {
      const { port } = listening.server.address() as AddressInfo
      const body = JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery staple' })
      const response = await rawRequest(port, '/v1/auth/signup', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(response.status, 200)
      assert.deepEqual(JSON.parse(response.body), { upstream: 'auth', method: 'POST', url: '/v1/auth/signup', body })
    } finally {
      await listening.close()
    }
  })

  it('answers 413 payload_too_large for a body over 1 MiB, sized or chunked, before any of it goes upstream', {
    timeout: 20_000,
  }, async () => {
    const listening = await buildApp(loadConfig({ AUTH_URL: auth.url, INVITATION_URL: invitation.url }))
    await listening.listen({ port: 0, host: '127.0.0.1' })
    try {
      const { port } = listening.server.address() as AddressInfo
      const before = auth.seen.length
      const oversized = 'x'.repeat(2 * 1024 * 1024)
      for (const framing of ['content-length', 'chunked'] as const) {
        const response = await socketRequest(port, '/v1/auth/login', {
          headers: { 'content-type': 'application/json' },
          body: oversized,
          chunked: framing === 'chunked',
        })
        assert.equal(response.status, 413, framing)
        assert.equal(JSON.parse(response.body).error, 'payload_too_large', framing)
      }
      assert.equal(auth.seen.length, before, 'nothing reached the service')
    } finally {
      await listening.close()
    }
  })

  it('passes a body sent with Expect: 100-continue through, as curl sends bodies over 1 MiB', {
    timeout: 10_000,
  }, async () => {
    auth.answerWith((request, response) => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ body: request.body, expect: request.headers.expect ?? null }))
    })
    const listening = await buildApp(loadConfig({ AUTH_URL: auth.url, INVITATION_URL: invitation.url }))
    await listening.listen({ port: 0, host: '127.0.0.1' })
    try {
      const { port } = listening.server.address() as AddressInfo
      const body = JSON.stringify({ metadataXml: 'x'.repeat(200_000) })
      const response = await socketRequest(port, '/v1/workspaces/x/sso/idp', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', expect: '100-continue' },
        body,
      })
      assert.equal(response.status, 200, response.body.slice(0, 200))
      assert.deepEqual(JSON.parse(response.body), { body, expect: null })
    } finally {
      await listening.close()
    }
  })

  it('shows an SSO refusal to a browser as a page with the same status and the service’s message', async () => {
    auth.answerWith((request, response) => {
      response.statusCode = 403
      response.setHeader('content-type', 'application/json; charset=utf-8')
      response.end(
        JSON.stringify({
          error: 'sso_not_allowed',
          message: `Accept your invitation <b>first</b> (asked for ${request.headers.accept}).`,
        }),
      )
    })
    const page = await app.inject({
      method: 'POST',
      url: '/sso/saml/c1/acs',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'SAMLResponse=x',
    })
    assert.equal(page.statusCode, 403)
    assert.match(String(page.headers['content-type']), /^text\/html/)
    assert.match(page.body, /You can’t use SSO for this workspace yet/)
    assert.match(page.body, /Accept your invitation &#60;b&#62;first&#60;\/b&#62; \(asked for application\/json\)\./)
    assert.match(page.body, /data-code="sso_not_allowed"/)

    const json = await app.inject({
      method: 'POST',
      url: '/sso/saml/c1/acs',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'SAMLResponse=x',
    })
    assert.equal(json.statusCode, 403)
    assert.equal(json.json().error, 'sso_not_allowed')
  })

  it('answers 502 upstream_unavailable when a service does not answer, and stays ready (its pages still serve)', async () => {
    auth.answerWith((_request, response) => response.end('{"status":"ok"}'))
    const lonely = await buildApp(loadConfig({ AUTH_URL: auth.url, INVITATION_URL: 'http://127.0.0.1:1' }))
    try {
      const response = await lonely.inject({ method: 'GET', url: '/v1/invitations?workspaceId=w' })
      assert.equal(response.statusCode, 502)
      assert.equal(response.json().error, 'upstream_unavailable')
      const ready = await lonely.inject({ method: 'GET', url: '/readyz' })
      assert.equal(ready.statusCode, 200)
    } finally {
      await lonely.close()
    }
  })
})

/** A GET whose path goes on the wire exactly as written. */
function rawRequest(
  port: number,
  path: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/**
 * A request over a real socket as curl sends it: with `Expect: 100-continue` the body waits for
 * the server's 100 Continue; `chunked` sends it without a Content-Length.
 */
function socketRequest(
  port: number,
  path: string,
  options: { method?: string; body: string; headers: Record<string, string>; chunked?: boolean },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = options.chunked
      ? { ...options.headers, 'transfer-encoding': 'chunked' }
      : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) }
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'POST', headers },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      },
    )
    request.on('error', reject)
    const send = () => {
      for (let at = 0; at < options.body.length; at += 64 * 1024) request.write(options.body.slice(at, at + 64 * 1024))
      request.end()
    }
    if (options.headers.expect) request.on('continue', send)
    else send()
  })
}

describe('isPlainPath', () => {
  it('accepts ordinary API paths and refuses dot segments, backslashes and control characters', () => {
    assert.equal(isPlainPath('/v1/workspaces/1f0e/sso?x=..'), true)
    assert.equal(isPlainPath('/v1/a..b/c'), true)
    for (const path of ['/v1/./x', '/v1/..', '/v1/%2E%2E/x', '/v1/x%5cy', '/v1/x%0ay', '/v1/%zz']) {
      assert.equal(isPlainPath(path), false, path)
    }
  })
})
