import assert from 'node:assert/strict'
import { get } from 'node:http'
import type { Socket } from 'node:net'
import { describe, it } from 'node:test'
import { connect } from '@gatehouse/db'
import { unreachablePostgresUrl, unreachableRedisUrl } from '@gatehouse/testing'
import { Type } from 'typebox'
import { defineError } from '../src/errors.ts'
import { createApp, originGuard, rateLimit } from '../src/http/index.ts'
import { createRedis } from '../src/redis/index.ts'
import { withTimeout } from '../src/timeout.ts'
import { heldRoute } from './fixtures/held-route.ts'

async function appWith(options: { trustProxy?: string | false } = {}) {
  const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example'), ...options })
  await app.register(originGuard, { publicOrigin: 'https://app.example', exempt: (url) => url.startsWith('/hook') })
  const teapot = defineError(418, 'teapot', 'I am a teapot.')
  app.get('/ip', async (request) => ({ ip: request.ip }))
  app.get('/teapot', async () => {
    throw teapot(undefined, { fields: { brew: 'too hot' } })
  })
  app.get('/crash', async () => {
    throw new Error('secret internals: password=hunter2')
  })
  app.post('/change', async () => ({ changed: true }))
  app.post('/hook', async () => ({ hooked: true }))
  await app.ready()
  return app
}

describe('createApp', () => {
  it('reports a dependency that never answers as not ready, naming it, instead of hanging', async () => {
    const app = await createApp({
      service: 'test',
      readiness: { database: async () => {}, redis: () => new Promise<void>(() => {}) },
      publicUrl: new URL('https://app.example'),
    })
    const ready = await app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 503)
    assert.deepEqual(ready.json().failing, ['redis'])
    assert.match(ready.json().message, /redis: did not answer within 2000 ms/)
    await app.close()
  })

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const direct = await appWith()
    const spoofed = await direct.inject({
      url: '/ip',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    })
    assert.equal(spoofed.json().ip, '127.0.0.1')
    await direct.close()

    const behindGateway = await appWith({ trustProxy: 'loopback' })
    const forwarded = await behindGateway.inject({
      url: '/ip',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    })
    assert.equal(forwarded.json().ip, '203.0.113.9')
    const fromElsewhere = await behindGateway.inject({
      url: '/ip',
      remoteAddress: '198.51.100.7',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    })
    assert.equal(fromElsewhere.json().ip, '198.51.100.7')
    await behindGateway.close()
  })

  it('answers every error as {error, message}, hiding what a 5xx was about', async () => {
    const app = await appWith()
    const teapot = await app.inject({ url: '/teapot' })
    assert.equal(teapot.statusCode, 418)
    assert.deepEqual(teapot.json(), { error: 'teapot', message: 'I am a teapot.', fields: { brew: 'too hot' } })
    const crash = await app.inject({ url: '/crash' })
    assert.equal(crash.statusCode, 500)
    assert.equal(crash.json().error, 'internal_error')
    assert.ok(!crash.body.includes('hunter2'))
    const missing = await app.inject({ url: '/nowhere' })
    assert.equal(missing.statusCode, 404)
    assert.equal(missing.json().error, 'not_found')
    assert.ok(teapot.headers['x-request-id'])
    await app.close()
  })

  it('refuses state-changing requests from another origin, except on exempt routes', async () => {
    const app = await appWith()
    const foreign = await app.inject({ method: 'POST', url: '/change', headers: { origin: 'https://evil.example' } })
    assert.equal(foreign.statusCode, 403)
    assert.equal(foreign.json().error, 'forbidden_origin')
    // The person who opened another address of the same machine learns which one to open.
    assert.match(foreign.json().message, /Open Gatehouse at https:\/\/app\.example \(PUBLIC_URL\)\.$/)
    const same = await app.inject({ method: 'POST', url: '/change', headers: { origin: 'https://app.example' } })
    assert.equal(same.statusCode, 200)
    const noOrigin = await app.inject({ method: 'POST', url: '/change' })
    assert.equal(noOrigin.statusCode, 200)
    const hook = await app.inject({ method: 'POST', url: '/hook', headers: { origin: 'https://idp.example' } })
    assert.equal(hook.statusCode, 200)
    await app.close()
  })
})

describe("routes' schemas", () => {
  async function appWithSchemas(maxLength = 5) {
    const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
    app.post(
      '/notes',
      {
        schema: {
          body: Type.Object({ text: Type.String({ maxLength }) }),
          response: { 200: Type.Object({ text: Type.String(), length: Type.Integer() }) },
        },
      },
      async (request) => ({ ...request.body, length: request.body.text.length, secret: 'not in the schema' }),
    )
    // Not a JSON Schema type: ajv cannot compile it.
    app.post(
      '/broken',
      { schema: { body: { type: 'object', properties: { a: { type: 'nonsense' } } } } },
      async () => ({}),
    )
    await app.ready()
    return app
  }

  it('validate requests, drop unknown properties and shape answers, for every app built alike', async () => {
    for (const app of [await appWithSchemas(), await appWithSchemas()]) {
      const stored = await app.inject({ method: 'POST', url: '/notes', payload: { text: 'hi', extra: 'dropped' } })
      assert.equal(stored.statusCode, 200)
      assert.deepEqual(stored.json(), { text: 'hi', length: 2 })
      const tooLong = await app.inject({ method: 'POST', url: '/notes', payload: { text: 'far too long' } })
      assert.equal(tooLong.statusCode, 400)
      assert.deepEqual(tooLong.json(), {
        error: 'bad_request',
        message: 'Invalid request: body/text must NOT have more than 5 characters',
      })
      await app.close()
    }
    // Another schema on the same route is its own: nothing compiled for the others is reused.
    const longer = await appWithSchemas(20)
    const accepted = await longer.inject({ method: 'POST', url: '/notes', payload: { text: 'far too long' } })
    assert.equal(accepted.statusCode, 200)
    await longer.close()
  })

  it("are compiled on their route's first request, not while the app starts", async () => {
    // The broken schema would have stopped ready(); it fails its own route only, as a 500.
    const app = await appWithSchemas()
    for (let attempt = 0; attempt < 2; attempt++) {
      const broken = await app.inject({ method: 'POST', url: '/broken', payload: { a: 1 } })
      assert.equal(broken.statusCode, 500)
      assert.equal(broken.json().error, 'internal_error')
    }
    // What a test of each service asks of its app: every schema, compiled now, and what fails.
    assert.deepEqual(
      app.routeSchemaProblems().map((problem) => problem.split(':')[0]),
      ['POST /broken body'],
    )
    assert.equal((await app.inject({ method: 'POST', url: '/notes', payload: { text: 'ok' } })).statusCode, 200)
    await app.close()
  })
})

describe('closing', () => {
  it('does not wait out keep-alive: the request in flight is answered with Connection: close and its socket closed', async () => {
    const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
    const slow = heldRoute(app, '/slow')
    const closing = Promise.withResolvers<void>()
    app.addHook('preClose', async () => closing.resolve())
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const accepted = new Promise<Socket>((resolve) => app.server.once('connection', resolve))
    // fetch keeps its socket alive, as browsers and the web gateway do; nothing here calls serve().
    const response = fetch(`${address}/slow`)
    await slow.arrived
    // Without the closing, the socket is kept after the answer until its keep-alive timeout.
    let timedOut = false
    ;(await accepted).once('timeout', () => {
      timedOut = true
    })
    const closed = app.close()
    await closing.promise
    slow.answer()
    const answer = await response
    assert.deepEqual(await answer.json(), { answered: true })
    assert.equal(answer.headers.get('connection'), 'close')
    await closed
    assert.equal(timedOut, false, 'the app waited for the kept-alive socket until it timed out')
  })
})

describe('background parts', () => {
  it('close after the request in flight is answered, side by side, and every one even when another fails', async () => {
    const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
    const slow = heldRoute(app, '/slow')
    const events: string[] = []
    // Each part finishes only once every part has begun: parts closed one after another never would.
    let allBegun = () => {}
    const begun = new Promise<void>((resolve) => {
      allBegun = resolve
    })
    const part = (name: string, outcome: 'closes' | 'fails') => async () => {
      events.push(`${name} begins`)
      if (events.filter((event) => event.endsWith('begins')).length === 3) allBegun()
      await withTimeout(begun, 5_000, () => new Error('the parts closed one after another'))
      events.push(`${name} ends`)
      if (outcome === 'fails') throw new Error(`${name} could not close`)
    }
    app.addHook('onResponse', async () => {
      events.push('request answered')
    })
    app.closeTogether(part('worker', 'closes'))
    app.closeTogether(part('relay', 'fails'))
    app.closeTogether(part('subscriber', 'closes'))
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const request = new Promise((resolve, reject) => {
      get(`${address}/slow`, async (response) => {
        let body = ''
        for await (const chunk of response) body += chunk
        resolve(JSON.parse(body))
      }).on('error', reject)
    })
    await slow.arrived
    const closed = assert.rejects(app.close(), /relay could not close/)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(events, [], 'no part closes while a request is in flight')
    slow.answer()
    assert.deepEqual(await request, { answered: true })
    await closed
    assert.equal(events[0], 'request answered')
    assert.deepEqual(events.slice(1, 4).sort(), ['relay begins', 'subscriber begins', 'worker begins'])
    assert.deepEqual(events.slice(4).sort(), ['relay ends', 'subscriber ends', 'worker ends'])
  })
})

describe('text Postgres cannot store', () => {
  it('is refused with 400 wherever it sits in a body, before any handler runs', async () => {
    const app = await appWith()
    const post = (payload: string) =>
      app.inject({ method: 'POST', url: '/change', headers: { 'content-type': 'application/json' }, payload })
    const refused = ['{"name":"a\\u0000b"}', '{"list":[{"deep":["\\ud800"]}]}', '{"a\\u0000":"key, not value"}']
    for (const payload of refused) {
      const response = await post(payload)
      assert.equal(response.statusCode, 400, payload)
      assert.equal(response.json().error, 'bad_request')
    }
    // Paired surrogates (an emoji) and deep nesting are fine.
    assert.equal((await post('{"name":"\\ud83d\\ude00 ok"}')).statusCode, 200)
    assert.equal((await post(`${'['.repeat(3_000)}${']'.repeat(3_000)}`)).statusCode, 200)
    await app.close()
  })
})

describe('while Redis is unreachable', () => {
  it('answers 503 rather than 500, and rate limits let requests through', async () => {
    const redis = createRedis(unreachableRedisUrl)
    const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
    app.post(
      '/login',
      { preHandler: rateLimit(redis, [{ name: 'test', limit: 1, windowSeconds: 60, key: () => 'x' }]) },
      async () => ({
        ok: true,
      }),
    )
    app.get('/needs-redis', async () => redis.get('anything'))
    await app.ready()
    try {
      const limited = await app.inject({ method: 'POST', url: '/login' })
      assert.equal(limited.statusCode, 200, 'fails open: the fact-bearing request still works')
      const needsRedis = await app.inject({ url: '/needs-redis' })
      assert.equal(needsRedis.statusCode, 503)
      assert.equal(needsRedis.json().error, 'service_unavailable')
    } finally {
      await app.close()
      redis.disconnect()
    }
  })
})

describe('while Postgres is unreachable', () => {
  it('answers 503 service_unavailable rather than 500', async () => {
    // What postgres.js rejects a statement with when Postgres refuses connections.
    const refused = await connect({
      url: unreachablePostgresUrl,
      dataDir: '',
      service: 'test',
      migrationsFolder: '',
      schema: {},
    }).then(
      () => assert.fail('connected to an unreachable Postgres'),
      (error: unknown) => error,
    )
    const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
    app.get('/needs-postgres', async () => {
      throw refused
    })
    await app.ready()
    try {
      const answer = await app.inject({ url: '/needs-postgres' })
      assert.equal(answer.statusCode, 503)
      assert.equal(answer.json().error, 'service_unavailable')
    } finally {
      await app.close()
    }
  })
})
