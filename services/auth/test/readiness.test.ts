import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { connect } from '@gatehouse/db'
import { createRedis } from '@gatehouse/server/redis'
import {
  cuttableProxy,
  inProcessPressureLimits,
  postgresUrl,
  redisUrl,
  uniqueSuffix,
  withPort,
} from '@gatehouse/testing'
import { buildApp, migrationsFolder, schema } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { removeQueue } from './harness.ts'

// Postgres and Redis reached through proxies the test can cut, as if each went down.
async function appBehindProxies() {
  const postgresProxy = await cuttableProxy({ host: '127.0.0.1', port: Number(new URL(postgresUrl).port || 5432) })
  const redisProxy = await cuttableProxy({ host: '127.0.0.1', port: Number(new URL(redisUrl).port || 6379) })
  // The default role (API and workers), as a deployment without ROLE runs it: cutting a proxy
  // must fail readiness, never the workers (test/faults/database-outage.test.ts covers those).
  const config = loadConfig({})
  const database = await connect({
    url: withPort(postgresUrl, postgresProxy.port),
    dataDir: config.dataDir,
    service: 'auth',
    migrationsFolder,
    schema,
  })
  const redis = createRedis(withPort(redisUrl, redisProxy.port))
  // An SSO upkeep queue of its own: its worker (on the shared database) takes no other file's runs.
  const ssoUpkeepQueue = `sso-upkeep-${uniqueSuffix()}`
  // The production timeout (2 s): a shorter one failed the healthy case when test files share a busy machine.
  const app = await buildApp(config, {
    db: database.db,
    pingDatabase: () => database.ping(),
    redis,
    ssoUpkeepQueue,
    pressureLimits: inProcessPressureLimits,
  })
  await app.ready()
  return {
    app,
    postgresProxy,
    redisProxy,
    close: async () => {
      await app.close()
      await removeQueue(config.redisUrl, ssoUpkeepQueue)
      redis.disconnect()
      await database.close().catch(() => {})
      await postgresProxy.cut()
      await redisProxy.cut()
    },
  }
}

describe('auth readiness', () => {
  it('is alive and ready when Postgres and Redis answer', async (t) => {
    const stack = await appBehindProxies()
    t.after(stack.close)
    const health = await stack.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(health.statusCode, 200)
    const ready = await stack.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 200)
    assert.deepEqual(ready.json(), { status: 'ready' })
  })

  it('answers 503 naming Redis when Redis stops answering', async (t) => {
    const stack = await appBehindProxies()
    t.after(stack.close)
    await stack.redisProxy.cut()
    const ready = await stack.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 503)
    const body = ready.json()
    assert.equal(body.error, 'not_ready')
    assert.deepEqual(body.failing, ['redis'])
    assert.match(body.message, /redis/)
  })

  it('answers 503 naming the database when Postgres stops answering', async (t) => {
    const stack = await appBehindProxies()
    t.after(stack.close)
    await stack.postgresProxy.cut()
    const ready = await stack.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 503)
    const body = ready.json()
    assert.deepEqual(body.failing, ['database'])
    assert.match(body.message, /database/)
  })

  it('serves its OpenAPI document', async (t) => {
    const stack = await appBehindProxies()
    t.after(stack.close)
    const docs = await stack.app.inject({ method: 'GET', url: '/docs/json' })
    assert.equal(docs.statusCode, 200)
    assert.equal(docs.json().info.title, 'Gatehouse auth')
  })
})
