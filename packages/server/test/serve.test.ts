import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import { trackConnections } from '../src/process/serve.ts'
import { withTimeout } from '../src/timeout.ts'
import { heldRoute } from './fixtures/held-route.ts'

describe('stopping', () => {
  it('answers the request in flight, then closes its kept-alive socket instead of waiting out keep-alive', async () => {
    const app = Fastify({ keepAliveTimeout: 72_000 })
    const slow = heldRoute(app, '/slow')
    const connections = trackConnections(app.server)
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    // fetch keeps its socket alive, as browsers and the web gateway do.
    const response = fetch(`${address}/slow`)
    await slow.arrived
    const closed = app.close()
    connections.closeWithoutRequest()
    slow.answer()
    const answer = await response
    assert.deepEqual(await answer.json(), { answered: true })
    assert.equal(answer.headers.get('connection'), 'close')
    await withTimeout(closed, 5_000, () => new Error('the server waited for the kept-alive socket'))
  })
})
