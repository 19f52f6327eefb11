// SAML logins per second through the auth service's real ACS route, over loopback HTTP, beside
// @gatehouse/saml's bare validation rate measured in the same run on the same kind of responses.
// Each login posts a fresh signed response (its own assertion ID, so the replay cache accepts it)
// for an SSO-allowed member; every login writes a session and an auth.login.succeeded outbox row.
// Needs the Postgres and Redis the tests use. Run: pnpm bench acs
import { request } from 'node:http'
import { connect } from '@gatehouse/db'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { createSamlConnection, idpConfigFromValues, MemoryReplayStore, serviceProviderUrls } from '@gatehouse/saml'
import { createRedis } from '@gatehouse/server'
import { postgresUrl, redisUrl, uniqueEmail } from '@gatehouse/testing'
import { buildApp, migrationsFolder, schema } from '../../services/auth/src/app.ts'
import { loadConfig } from '../../services/auth/src/config.ts'

const logins = Number(process.env.BENCH_LOGINS ?? 3000)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8)

const idp = createDevIdp({ keys: await generateSigningKeys() })

// --- bare validation: the SAML step alone, in this process ----------------------------------
async function bareValidationRate(count: number): Promise<number> {
  const sp = serviceProviderUrls('http://localhost:3000', 'bench')
  const connection = createSamlConnection({
    sp,
    idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }),
    allowIdpInitiated: true,
  })
  const responses = Array.from({ length: count }, () => idp.responseBase64({ sp, user: { email: 'ada@example.com' } }))
  const replayStore = new MemoryReplayStore()
  const started = performance.now()
  for (const samlResponse of responses) {
    await connection.validateResponse({ samlResponse, expectedRequestId: null, replayStore })
  }
  return count / ((performance.now() - started) / 1000)
}

// --- the ACS route over HTTP -----------------------------------------------------------------
const config = loadConfig({ PUBLIC_URL: 'http://localhost:3000', REDIS_URL: redisUrl, LOG_LEVEL: 'silent' })
const database = await connect({ url: postgresUrl, dataDir: config.dataDir, service: 'auth', migrationsFolder, schema })
const redis = createRedis(redisUrl)
const app = await buildApp(config, { db: database.db, pingDatabase: () => database.ping(), redis })
await app.listen({ host: '127.0.0.1', port: 0 })
const port = (app.server.address() as { port: number }).port

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers, agent }, (incoming) => {
      let text = ''
      incoming.on('data', (chunk) => {
        text += chunk
      })
      incoming.on('end', () =>
        resolve({ status: incoming.statusCode ?? 0, cookies: incoming.headers['set-cookie'] ?? [], body: text }),
      )
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}
const { Agent } = await import('node:http')
const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
const json = (value: unknown) => JSON.stringify(value)
const jsonHeaders = (cookie?: string) => ({ 'content-type': 'application/json', ...(cookie ? { cookie } : {}) })

const email = uniqueEmail('bench')
const signup = await call('POST', '/v1/auth/signup', json({ email, password: 'bench password 0123' }), jsonHeaders())
const cookie = signup.cookies[0]?.split(';')[0] ?? ''
const workspace = JSON.parse(
  (await call('POST', '/v1/workspaces', json({ name: 'Bench' }), jsonHeaders(cookie))).body,
).workspace
await call('POST', `/v1/workspaces/${workspace.id}/sso`, undefined, { cookie })
const configured = await call(
  'PUT',
  `/v1/workspaces/${workspace.id}/sso/idp`,
  json({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }),
  jsonHeaders(cookie),
)
const connection = JSON.parse(configured.body).connection
await call('PATCH', `/v1/workspaces/${workspace.id}/sso`, json({ allowIdpInitiated: true }), jsonHeaders(cookie))

const forms = Array.from(
  { length: logins },
  () =>
    `SAMLResponse=${encodeURIComponent(idp.responseBase64({ sp: connection.sp, user: { email, firstName: 'Ada' } }))}`,
)
const acsPath = `/sso/saml/${connection.id}/acs`
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }

// Warm-up: JIT, connection pools, the SAML connection cache.
for (const form of forms.splice(0, 200)) await call('POST', acsPath, form, formHeaders)

const latencies: number[] = []
let next = 0
let failures = 0
const cpuBefore = process.cpuUsage()
const started = performance.now()
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < forms.length) {
      const form = forms[next++] as string
      const sent = performance.now()
      const response = await call('POST', acsPath, form, formHeaders)
      latencies.push(performance.now() - sent)
      if (response.status !== 302) failures++
    }
  }),
)
const seconds = (performance.now() - started) / 1000
const cpu = process.cpuUsage(cpuBefore)
const routeRate = latencies.length / seconds
latencies.sort((a, b) => a - b)
const percentile = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0

await app.close()
agent.destroy()
redis.disconnect()
await database.close()

const bareRate = await bareValidationRate(Math.min(logins, 2000))
console.log(`ACS route: ${latencies.length} logins, concurrency ${concurrency}, ${failures} failed`)
console.log(
  `  ${routeRate.toFixed(0)} logins/s; latency p50 ${percentile(50).toFixed(2)} ms, p99 ${percentile(99).toFixed(2)} ms`,
)
console.log(
  `  this process's CPU per login (HTTP client included): ${((cpu.user + cpu.system) / 1000 / latencies.length).toFixed(2)} ms`,
)
console.log(`bare @gatehouse/saml validation (fresh responses, one at a time): ${bareRate.toFixed(0)} responses/s`)
console.log(`ratio route / bare: ${(routeRate / bareRate).toFixed(2)} (target >= 0.70)`)
if (failures > 0) process.exitCode = 1
