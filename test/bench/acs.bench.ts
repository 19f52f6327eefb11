// SAML logins per second through the ACS route of one real auth process, over loopback HTTP,
// beside @gatehouse/saml's bare validation rate measured in the same run on the same kind of
// responses. Each login is SP-initiated (the sign-in that finishes at the ACS in one step; an
// unsolicited one waits for the person's confirmation): its start (GET /login, which gives the
// browser the start's cookie) is made before timing, and the timed part posts a fresh signed
// response answering it, with its RelayState and the start's cookie, for an SSO-allowed
// member; every login writes a session and an auth.login.succeeded outbox row that the
// process's relay publishes to the stream.
// The load comes from this process, so the auth process's one event loop is what is measured.
// Needs the Postgres and Redis the tests use. Run: pnpm bench acs
import { Agent } from 'node:http'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { createSamlConnection, idpConfigFromValues, MemoryReplayStore, serviceProviderUrls } from '@gatehouse/saml'
import { uniqueEmail } from '@gatehouse/testing'
import { confirmAddress } from '../support/account-proof.ts'
import { machineCpuMs, processCpuMs } from '../support/cpu.ts'
import { summarize } from '../support/stats.ts'
import { httpCaller, manySignIns, startBenchAuth } from './bench-auth.ts'

const logins = Number(process.env.BENCH_LOGINS ?? 5000)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16)
const warmUpLogins = 500

const idp = createDevIdp({ keys: await generateSigningKeys() })

// --- bare validation: the SAML step alone, one at a time, in this process --------------------
async function bareValidationRate(count: number): Promise<number> {
  const sp = serviceProviderUrls('http://localhost:3000', 'bench')
  const connection = createSamlConnection({
    sp,
    idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }),
    allowIdpInitiated: true,
  })
  const responses = Array.from({ length: count }, () => idp.responseBase64({ sp, user: { email: 'ada@example.com' } }))
  const replayStore = new MemoryReplayStore()
  // The first few hundred warm the JIT, as the route's warm-up does.
  for (const samlResponse of responses.splice(0, 300)) {
    await connection.validateResponse({ samlResponse, expectedRequestId: null, replayStore })
  }
  const started = performance.now()
  for (const samlResponse of responses) {
    await connection.validateResponse({ samlResponse, expectedRequestId: null, replayStore })
  }
  return responses.length / ((performance.now() - started) / 1000)
}

// --- the auth process -------------------------------------------------------------------------
// Sign-in starts are limited per network: each start comes from an address of its own, as the
// people of a real tenant do, named by the bench as a trusted gateway would.
// BENCH_CPU_PROF=<dir>: auth writes a V8 CPU profile there when it stops, and the bench prints the
// timed phase's bounds on the same monotonic clock (microseconds), to summarise that phase alone.
const cpuProfileDir = process.env.BENCH_CPU_PROF
const profiling: Record<string, string> = cpuProfileDir
  ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${cpuProfileDir} --cpu-prof-interval=250` }
  : {}
const monotonicMicroseconds = () => Number(process.hrtime.bigint() / 1000n)
const { auth, proof, stop } = await startBenchAuth({ TRUST_PROXY: 'loopback', ...manySignIns, ...profiling })
const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
const call = httpCaller(auth.url, agent)
const json = (value: unknown) => JSON.stringify(value)
const jsonHeaders = (cookie?: string) => ({ 'content-type': 'application/json', ...(cookie ? { cookie } : {}) })

const email = uniqueEmail('bench')
const signup = await call('POST', '/v1/auth/signup', json({ email, password: 'bench password 0123' }), jsonHeaders())
const cookie = signup.cookies[0]?.split(';')[0] ?? ''
// Only a proven address may use SSO.
await confirmAddress(proof, { userId: JSON.parse(signup.body).user.id, cookie })
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

/** One SP-initiated login, started: the form the IdP's answer posts and the start's cookie. */
interface StartedLogin {
  form: string
  cookie: string
}
let starts = 0
async function startLogin(): Promise<StartedLogin> {
  starts++
  const address = `10.${(starts >> 16) & 255}.${(starts >> 8) & 255}.${starts & 255}`
  const started = await call('GET', `/sso/saml/${connection.id}/login`, undefined, { 'x-forwarded-for': address })
  if (started.status !== 302 || !started.location) throw new Error(`login start answered ${started.status}`)
  const location = new URL(started.location)
  const relayState = location.searchParams.get('RelayState') ?? ''
  const request = idp.parseAuthnRequest({
    SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
    RelayState: relayState,
  })
  const samlResponse = idp.responseBase64({
    sp: connection.sp,
    user: { email, firstName: 'Ada' },
    inResponseTo: request.id,
  })
  return {
    form: `SAMLResponse=${encodeURIComponent(samlResponse)}&RelayState=${encodeURIComponent(relayState)}`,
    cookie: started.cookies.map((setCookie) => setCookie.split(';')[0]).join('; '),
  }
}
const forms: StartedLogin[] = []
for (let index = 0; index < warmUpLogins + logins; index++) forms.push(await startLogin())
const acsPath = `/sso/saml/${connection.id}/acs`
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }

async function post(batch: StartedLogin[], latencies: number[], expectedStatus = 302): Promise<number> {
  let next = 0
  let failures = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batch.length) {
        const login = batch[next++] as StartedLogin
        const sent = performance.now()
        const response = await call('POST', acsPath, login.form, { ...formHeaders, cookie: login.cookie })
        latencies.push(performance.now() - sent)
        if (response.status !== expectedStatus) failures++
      }
    }),
  )
  return failures
}

// Warm-up: JIT, connection pools, the SAML connection cache.
let failures = await post(forms.splice(0, warmUpLogins), [])

const latencies: number[] = []
const authCpuBefore = processCpuMs(auth.pid)
const clientCpuBefore = process.cpuUsage()
const machineBefore = machineCpuMs()
const started = performance.now()
const timedFrom = monotonicMicroseconds()
failures += await post(forms, latencies)
const timedTo = monotonicMicroseconds()
const seconds = (performance.now() - started) / 1000
const authCpuMs = processCpuMs(auth.pid) - authCpuBefore
const clientCpu = process.cpuUsage(clientCpuBefore)
const clientCpuMs = (clientCpu.user + clientCpu.system) / 1000
const machineAfter = machineCpuMs()
const routeRate = latencies.length / seconds
const latency = summarize(latencies)

// The floor under any ACS on this HTTP stack and machine: the same route and body size, refused
// (400 missing_response) before any SAML or database work.
const floorForms = forms.map((login) => ({
  form: `Padding=${'x'.repeat(login.form.length - 8)}`,
  cookie: login.cookie,
}))
failures += await post(floorForms.splice(0, warmUpLogins), [], 400)
const floorStarted = performance.now()
const floorCpuBefore = processCpuMs(auth.pid)
failures += await post(floorForms, [], 400)
const floorSeconds = (performance.now() - floorStarted) / 1000
const floorRate = floorForms.length / floorSeconds
const floorBusy = (processCpuMs(auth.pid) - floorCpuBefore) / (floorSeconds * 1000)

agent.destroy()
await stop()

const bareRate = await bareValidationRate(2300)
const machineBusyMs = machineAfter.busy - machineBefore.busy
const machineBusy = machineBusyMs / (machineAfter.total - machineBefore.total)
const perLogin = (milliseconds: number) => `${(milliseconds / latencies.length).toFixed(2)} ms`
console.log(`ACS route: ${latencies.length} logins, concurrency ${concurrency}, ${failures} failed`)
console.log(
  `  ${routeRate.toFixed(0)} logins/s; latency p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`,
)
console.log(
  `  CPU per login: auth process ${perLogin(authCpuMs)} (${((100 * authCpuMs) / (seconds * 1000)).toFixed(0)}% of one core), ` +
    `load generator ${perLogin(clientCpuMs)}, the rest (Postgres, Redis) ${perLogin(machineBusyMs - authCpuMs - clientCpuMs)}; ` +
    `machine ${(100 * machineBusy).toFixed(0)}% busy`,
)
console.log(`bare @gatehouse/saml validation (fresh responses, one at a time): ${bareRate.toFixed(0)} responses/s`)
// One event loop doing both the HTTP floor's work and the validation's could reach at most this.
const ceiling = 1 / (1 / floorRate + 1 / bareRate)
console.log(
  `HTTP floor (same route and body size, refused before SAML or database work): ${floorRate.toFixed(0)} requests/s ` +
    `(auth process at ${(100 * floorBusy).toFixed(0)}% of one core); ` +
    `floor + bare validation on one event loop: at most ${ceiling.toFixed(0)}/s = ratio ${(ceiling / bareRate).toFixed(2)}`,
)
console.log(`ratio route / bare: ${(routeRate / bareRate).toFixed(2)} (target >= 0.70)`)
if (cpuProfileDir) console.log(`auth CPU profile in ${cpuProfileDir}; timed logins from ${timedFrom} to ${timedTo} µs`)
if (failures > 0) process.exitCode = 1
