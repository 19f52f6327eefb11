import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { it } from 'node:test'
import Fastify, { type FastifyRequest } from 'fastify'
import { loggerOptions } from '../src/process/logger.ts'

it('logs a request’s secret-bearing headers as [redacted], whatever serializer prints its headers', async () => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const options = loggerOptions({ service: 'test', logLevel: 'info' })
  const app = Fastify({
    logger: {
      ...(typeof options === 'object' ? options : {}),
      stream,
      // A serializer that prints every header, as one added while debugging would.
      serializers: { req: (request: FastifyRequest) => ({ url: request.url, headers: request.headers }) },
    },
  })
  app.get('/', async () => ({}))
  const secrets = {
    cookie: 'session=cookie-secret',
    authorization: 'Bearer internal-secret',
    'x-setup-token': 'setup-link-secret',
    'x-gatehouse-gateway': 'gateway-secret',
  }
  await app.inject({ url: '/', headers: { ...secrets, 'user-agent': 'kept' } })
  await app.close()

  const logged = lines.map((line) => JSON.parse(line)).find((line) => line.req?.headers)
  assert.ok(logged, lines.join(''))
  for (const name of Object.keys(secrets)) assert.equal(logged.req.headers[name], '[redacted]', name)
  assert.equal(logged.req.headers['user-agent'], 'kept')
  assert.doesNotMatch(lines.join(''), /secret/)
})
