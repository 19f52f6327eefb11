import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import { redisUrl, uniqueSuffix, unreachableRedisUrl } from '@gatehouse/testing'
import { closeRedis, createRedis, isRedisUnavailable, pingRedis, RedisUnavailableError } from '../src/redis/index.ts'

describe('a Redis client from createRedis', () => {
  it('fails a command with RedisUnavailableError while Redis cannot be reached, scripts and pipelines too', async () => {
    const redis = createRedis(unreachableRedisUrl)
    try {
      for (const command of [
        () => redis.get('key'),
        () => redis.eval('return 1', 0),
        () => redis.multi().incr('key').exec(),
      ]) {
        await assert.rejects(command(), (error: unknown) => {
          assert.ok(error instanceof RedisUnavailableError, String(error))
          return isRedisUnavailable(error)
        })
      }
      await assert.rejects(pingRedis(redis, 200), RedisUnavailableError)
    } finally {
      await closeRedis(redis)
    }
  })

  it('fails a command with RedisUnavailableError when Redis stops answering on an open connection', async () => {
    // Completes the handshake (HELLO, CLIENT, INFO), then answers nothing: a partition that drops
    // packets, or a stalled server. The connection stays open, so only a time limit ends a command.
    const sockets = new Set<Socket>()
    const info = '# Server\r\nloading:0\r\n'
    const handshake: Record<string, string> = {
      hello: '%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n',
      client: '+OK\r\n',
      info: `$${info.length}\r\n${info}\r\n`,
    }
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.on('data', (chunk) => {
        // Each command's name is the bulk string right after its array header.
        for (const [, verb = ''] of chunk.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n([^\r]*)\r\n/g)) {
          const answer = handshake[verb.toLowerCase()]
          if (answer) socket.write(answer)
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const redis = createRedis(`redis://127.0.0.1:${port}`)
    try {
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
      await assert.rejects(redis.get('key'), RedisUnavailableError)
    } finally {
      redis.disconnect()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('passes on what Redis itself refuses as that error, not as an outage', async () => {
    const redis = createRedis(redisUrl)
    const key = `gatehouse:test:redis-errors:${uniqueSuffix()}`
    try {
      await pingRedis(redis)
      await redis.set(key, 'text', 'EX', 60)
      await assert.rejects(redis.incr(key), (error: unknown) => {
        assert.equal(isRedisUnavailable(error), false)
        assert.match(String(error), /not an integer/)
        return true
      })
    } finally {
      await redis.del(key)
      await closeRedis(redis)
    }
  })
})
