import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { AppError } from '@gatehouse/server/errors'
import { publishRevokedSessions, sessionTokenHash } from '@gatehouse/server/internal'
import { eventually, redisUrl, sparePort } from '@gatehouse/testing'
import type { FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'
import { createAuthClient } from '../src/sessions/auth-client.ts'

const quiet = { warn: () => {} }

const answer = {
  user: { id: '6f1c2a57-3c1e-4b8a-9d0e-2f3a4b5c6d7e', email: 'ada@example.com', createdVia: 'password' },
  authentications: [{ method: 'password' }],
  account: { method: 'password' },
  workspace: null,
}

// The invitation service's call to auth's introspection, against a stand-in for auth that answers
// as told, so each way auth can fail is seen as the code the invitation routes give.
describe('the auth client', () => {
  let respond: (request: IncomingMessage, body: string, response: ServerResponse) => void
  const received: { authorization: string | undefined; body: unknown }[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      received.push({ authorization: request.headers.authorization, body: JSON.parse(body) })
      respond(request, body, response)
    })
  })
  let authUrl: URL
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    authUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })

  const client = (timeoutMs = 2_000) => createAuthClient({ authUrl, internalToken: 'internal-token', timeoutMs })
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'answered',
      (error: unknown) => (error instanceof AppError ? error.code : String(error)),
    )

  it('asks with the internal token, and reuses an answer about a session for half a second while it hears revocations', async (t) => {
    respond = (_request, _body, response) =>
      response.setHeader('content-type', 'application/json').end(JSON.stringify(answer))
    received.length = 0
    const auth = client()
    const revocations = auth.listenForRevocations(redisUrl, quiet)
    t.after(() => revocations.close())
    await revocations.heard
    assert.deepEqual(await auth.introspect('token-1', { workspaceId: 'w1' }), answer)
    assert.deepEqual(await auth.introspect('token-1', { workspaceId: 'w1' }), answer)
    // Whether an email is a member is never answered from the cache.
    await auth.introspect('token-1', { workspaceId: 'w1', email: 'bob@example.com' })
    assert.deepEqual(received, [
      { authorization: 'Bearer internal-token', body: { sessionToken: 'token-1', workspaceId: 'w1' } },
      {
        authorization: 'Bearer internal-token',
        body: { sessionToken: 'token-1', workspaceId: 'w1', email: 'bob@example.com' },
      },
    ])
  })

  it('drops an answer as soon as auth announces that the session ended', async (t) => {
    respond = (_request, _body, response) =>
      response.setHeader('content-type', 'application/json').end(JSON.stringify(answer))
    const auth = client()
    const revocations = auth.listenForRevocations(redisUrl, quiet)
    const publisher = new Redis(redisUrl)
    t.after(async () => {
      await revocations.close()
      publisher.disconnect()
    })
    await revocations.heard
    // The cookie names two sign-ins; ending either one drops the answer about the cookie.
    const cookie = 'password-token.sso-token'
    received.length = 0
    await auth.introspect(cookie)
    await auth.introspect(cookie)
    assert.equal(received.length, 1)
    await publishRevokedSessions(publisher, [sessionTokenHash('sso-token')], quiet)
    await eventually('the answer dropped', async () => {
      await auth.introspect(cookie)
      return received.length === 2 ? true : undefined
    })
  })

  it('caches nothing while it does not hear revocations (Redis unreachable)', async (t) => {
    respond = (_request, _body, response) =>
      response.setHeader('content-type', 'application/json').end(JSON.stringify(answer))
    const auth = client()
    const revocations = auth.listenForRevocations('redis://127.0.0.1:1', quiet)
    t.after(() => revocations.close())
    received.length = 0
    await auth.introspect('token-unheard')
    await auth.introspect('token-unheard')
    assert.equal(received.length, 2)
  })

  it('turns each failure of auth into unauthenticated or auth_unavailable, never a crash', async () => {
    const outcomes: Record<string, string> = {}
    const cases: [string, (response: ServerResponse) => void][] = [
      ['no such session', (response) => response.writeHead(401).end('{"error":"unauthenticated"}')],
      ['auth failing', (response) => response.writeHead(500).end('{"error":"internal_error"}')],
      ['not auth at all', (response) => response.writeHead(200).end('<html>hello</html>')],
      // The contract is checked on this side too: an answer that does not say what the session
      // reaches (an auth of another release) is not trusted.
      [
        'another shape',
        (response) => response.writeHead(200).end(JSON.stringify({ user: answer.user, workspace: null })),
      ],
      ['hanging', () => {}],
    ]
    for (const [name, behaviour] of cases) {
      respond = (_request, _body, response) => behaviour(response)
      outcomes[name] = await codeOf(client(200).introspect(`token-${name}`))
    }
    const closedPort = new URL(`http://127.0.0.1:${await sparePort()}`)
    outcomes['auth down'] = await codeOf(
      createAuthClient({ authUrl: closedPort, internalToken: 'internal-token' }).introspect('token'),
    )
    assert.deepEqual(outcomes, {
      'no such session': 'unauthenticated',
      'auth failing': 'auth_unavailable',
      'not auth at all': 'auth_unavailable',
      'another shape': 'auth_unavailable',
      hanging: 'auth_unavailable',
      'auth down': 'auth_unavailable',
    })
  })

  it("passes on auth's refusal of a removal as its own answer only when it is one the contract allows", async () => {
    const request = {
      cookies: { session: 'token-removal' },
      ip: '192.0.2.1',
      id: 'request-1',
    } as unknown as FastifyRequest
    const membership = { workspaceId: answer.user.id, userId: answer.user.id }
    const refusalOf = async (status: number, body: string) => {
      respond = (_request, _body, response) => response.writeHead(status).end(body)
      return client()
        .removeMember(request, membership)
        .then(
          () => 'removed',
          (error: unknown) =>
            error instanceof AppError ? { status: error.statusCode, code: error.code, details: error.details } : error,
        )
    }
    const signIn = { password: '/login' }
    assert.deepEqual(
      await refusalOf(403, JSON.stringify({ error: 'reauthentication_required', message: 'Sign in.', signIn })),
      { status: 403, code: 'reauthentication_required', details: { signIn } },
    )
    assert.deepEqual(await refusalOf(409, JSON.stringify({ error: 'last_owner', message: 'Keep one.' })), {
      status: 409,
      code: 'last_owner',
      details: {},
    })
    // Outside the contract: a status it does not relay, a code that is not one, a message too long.
    for (const [status, body] of [
      [500, JSON.stringify({ error: 'internal_error', message: 'Oops.' })],
      [403, JSON.stringify({ error: 'Not A Code', message: 'Refused.' })],
      [403, JSON.stringify({ error: 'forbidden', message: 'x'.repeat(1001) })],
      [404, 'not json'],
    ] as const) {
      const outcome = await refusalOf(status, body)
      assert.equal(outcome instanceof Object && 'code' in outcome && outcome.code, 'auth_unavailable', body)
    }
  })
})
