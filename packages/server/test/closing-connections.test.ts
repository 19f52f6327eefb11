import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import { closingConnectionsPlugin } from '../src/http/closing-connections.ts'
import { withTimeout } from '../src/timeout.ts'
import { heldRoute } from './fixtures/held-route.ts'

async function listeningApp() {
  // A socket that stays silent for 10 s times out (Node's headers timeout is not checked once
  // the server closes).
  const app = Fastify({ keepAliveTimeout: 72_000, connectionTimeout: 10_000 })
  await app.register(closingConnectionsPlugin)
  const slow = heldRoute(app, '/slow')
  app.get('/quick', async () => ({ answered: true }))
  // Runs after the plugin's: the app has begun closing.
  const closing = Promise.withResolvers<void>()
  app.addHook('preClose', async () => closing.resolve())
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, slow, address, closing: closing.promise }
}

describe('closing an app', () => {
  it('answers the request in flight, then closes its kept-alive socket instead of waiting out keep-alive', async () => {
    const { app, slow, address, closing } = await listeningApp()
    // fetch keeps its socket alive, as browsers and the web gateway do.
    const response = fetch(`${address}/slow`)
    await slow.arrived
    const closed = app.close()
    await closing
    slow.answer()
    const answer = await response
    assert.deepEqual(await answer.json(), { answered: true })
    assert.equal(answer.headers.get('connection'), 'close')
    await withTimeout(closed, 5_000, () => new Error('the server waited for the kept-alive socket'))
  })

  it('closes a socket whose request is half sent at once, instead of waiting for it to time out', async () => {
    const { app, address } = await listeningApp()
    // A client cut off mid-request (or a slow one): Node counts its socket busy, not idle.
    const accepted = once(app.server, 'connection') as Promise<[Socket]>
    const client = connect(Number(new URL(address).port), '127.0.0.1')
    const received: Buffer[] = []
    client.on('data', (chunk: Buffer) => received.push(chunk))
    const [serverSocket] = await accepted
    await new Promise((resolve) => client.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n', resolve))
    // A request on another connection, answered after the server has read what came before it.
    await (await fetch(`${address}/quick`)).json()
    // Without the closing, the server waits for it until it times out.
    let timedOut = false
    serverSocket.once('timeout', () => {
      timedOut = true
    })
    await app.close()
    assert.equal(timedOut, false, 'the server waited for the half-sent request until it timed out')
    assert.equal(serverSocket.destroyed, true)
    if (!client.closed) await once(client, 'close')
    assert.equal(Buffer.concat(received).length, 0, 'the half-sent request got no answer')
  })
})
