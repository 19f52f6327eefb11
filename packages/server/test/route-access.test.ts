import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errors } from '../src/errors.ts'
import { createApp, routeAccess } from '../src/http/index.ts'

async function appWithAccess() {
  const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
  await app.register(routeAccess, {
    async enforce(request, access) {
      if (access !== 'public' && request.headers.authorization !== 'yes') throw errors.unauthenticated()
    },
  })
  return app
}

describe('routeAccess', () => {
  it('refuses to start with a route that declares nothing', async () => {
    const app = await appWithAccess()
    assert.throws(() => app.get('/forgotten', async () => ({ secret: true })), /GET \/forgotten declares no access/)
    await app.close()
  })

  it('runs the declared check before every handler, and lists what each route needs', async () => {
    const app = await appWithAccess()
    app.get('/open', { config: { access: 'public' } }, async () => ({ open: true }))
    app.get('/closed', { config: { access: 'session' } }, async () => ({ secret: true }))
    await app.ready()
    assert.equal((await app.inject({ url: '/open' })).statusCode, 200)
    assert.equal((await app.inject({ url: '/closed' })).statusCode, 401)
    assert.equal((await app.inject({ url: '/closed', headers: { authorization: 'yes' } })).statusCode, 200)
    assert.deepEqual(app.declaredRoutes, [
      { method: 'GET', url: '/open', access: 'public' },
      { method: 'GET', url: '/closed', access: 'session' },
    ])
    await app.close()
  })
})
