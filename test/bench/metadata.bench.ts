// What hostile IdP metadata uploads cost, now that every XML input is bounded before parsing
// (packages/saml README, "XML limits"). Two figures:
// 1. Event-loop time of the costliest uploads the limits allow: JSON body parse plus
//    idpConfigFromMetadata, which is synchronous, so its wall time is the time the loop is held.
// 2. A bystander's password sign-in latency through a real auth process, idle and while 4 clients
//    post hostile metadata as fast as they are answered (each from an account and workspace of its
//    own, spread so the per-account change limit does not stop them: the parse bound alone is
//    what is measured). Sign-ins come from a loopback address each, so per-network limits stay out.
// Needs the Postgres and Redis the tests use. Run: pnpm bench metadata
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { idpConfigFromMetadata, SamlConfigError } from '@gatehouse/saml'
import { costliestAllowedMetadata, hostileMetadata } from '@gatehouse/saml/hostile-metadata'
import { uniqueEmail } from '@gatehouse/testing'
import { processCpuMs } from '../support/cpu.ts'
import { request, uniqueLoopbackAddress } from '../support/http-client.ts'
import { summarize } from '../support/stats.ts'
import { startBenchAuth } from './bench-auth.ts'

const entraMetadata = readFileSync(
  new URL('../fixtures/entra/ssoready-2023.federation-metadata.xml', import.meta.url),
  'utf8',
)
const fixed = (value: number) => value.toFixed(1)

// --- 1. the event loop held by one upload, in this process ---------------------------------------
const insideValidity = { now: new Date('2024-01-01T00:00:00Z') }
const uploads = [
  ...costliestAllowedMetadata(entraMetadata).map((variant) => ({ ...variant, allowed: true })),
  ...hostileMetadata(entraMetadata).map((variant) => ({ ...variant, allowed: false })),
]
let worstAllowedP50 = 0
let worstAllowedMax = 0
console.log('event loop per upload (JSON body parse + idpConfigFromMetadata), ms over 40 runs after 10 warm-up:')
console.log(`  (machine load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`)
for (const { name, metadataXml, allowed } of uploads) {
  const body = JSON.stringify({ metadataXml })
  // CPU time of the call (what it holds the loop for on a core of its own), beside wall time,
  // which on a shared machine also counts the time this process waited for a core.
  const once = () => {
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    try {
      idpConfigFromMetadata(JSON.parse(body).metadataXml, insideValidity)
    } catch (error) {
      if (!(error instanceof SamlConfigError)) throw error
    }
    const cpu = process.cpuUsage(cpuBefore)
    return { wall: performance.now() - started, cpu: (cpu.user + cpu.system) / 1000 }
  }
  for (let run = 0; run < 10; run++) once()
  const runs = Array.from({ length: 40 }, once)
  const times = summarize(runs.map((run) => run.cpu))
  const wall = summarize(runs.map((run) => run.wall))
  if (allowed) {
    worstAllowedP50 = Math.max(worstAllowedP50, times.p50)
    worstAllowedMax = Math.max(worstAllowedMax, times.max)
  }
  console.log(
    `  ${allowed ? 'allowed' : 'refused'}  cpu p50 ${fixed(times.p50)} max ${fixed(times.max)}  wall p50 ${fixed(wall.p50)} max ${fixed(wall.max)}  (${Math.round(body.length / 1024)} KiB) ${name}`,
  )
}
console.log(
  `worst allowed upload, CPU: p50 ${fixed(worstAllowedP50)} ms, max ${fixed(worstAllowedMax)} ms (bound: 50 ms)`,
)

// --- 2. a bystander's sign-in, idle and beside 4 hostile uploaders ---------------------------------
const { auth, stop } = await startBenchAuth()
const password = 'bench password 0123'

async function signUp() {
  const email = uniqueEmail('metadata-bench')
  const signedUp = await request(`${auth.url}/v1/auth/signup`, {
    json: { email, password },
    sourceAddress: uniqueLoopbackAddress(),
  })
  if (signedUp.status !== 201) throw new Error(`signup: ${signedUp.status}`)
  return { email, cookie: Object.values(signedUp.cookies).join('; ') }
}

/** An account with a workspace whose SSO is on: 58 IdP changes left in its hour. */
async function uploader() {
  const { cookie } = await signUp()
  const workspace = (await request(`${auth.url}/v1/workspaces`, { json: { name: 'Bench' }, cookie })).body.workspace
  await request(`${auth.url}/v1/workspaces/${workspace.id}/sso`, { method: 'POST', cookie })
  return { cookie, url: `${auth.url}/v1/workspaces/${workspace.id}/sso/idp`, changesLeft: 58 }
}

const bystander = await signUp()
const signInLatencies = async (count: number) => {
  const latencies: number[] = []
  for (let attempt = 0; attempt < count; attempt++) {
    const started = performance.now()
    const response = await request(`${auth.url}/v1/auth/login`, {
      json: { email: bystander.email, password },
      sourceAddress: uniqueLoopbackAddress(),
    })
    latencies.push(performance.now() - started)
    if (response.status !== 200) throw new Error(`bystander sign-in: ${response.status}`)
  }
  return latencies
}

const signIns = Number(process.env.BENCH_SIGN_INS ?? 200)
const rounds = 4
const accounts = await Promise.all(Array.from({ length: Number(process.env.BENCH_UPLOADER_ACCOUNTS ?? 4) }, uploader))
const uploaders = fork(new URL('./metadata-uploaders.ts', import.meta.url), {
  env: { ...process.env, UPLOADERS: JSON.stringify(accounts) },
  execArgv: ['--import', 'tsx'],
})
const tell = (message: string) => uploaders.send(message)

// Idle and loaded phases alternate, so that the machine's other work colours both alike.
await signInLatencies(10)
const idle: number[] = []
const loaded: number[] = []
let loadedCpuMs = 0
let loadedSeconds = 0
for (let round = 0; round < rounds; round++) {
  idle.push(...(await signInLatencies(signIns / rounds)))
  tell('go')
  const cpuBefore = processCpuMs(auth.pid)
  const started = performance.now()
  loaded.push(...(await signInLatencies(signIns / rounds)))
  loadedSeconds += (performance.now() - started) / 1000
  loadedCpuMs += processCpuMs(auth.pid) - cpuBefore
  tell('pause')
}
const answered = once(uploaders, 'message')
tell('stop')
const [statuses] = (await answered) as [Record<string, number>]
await stop()

const idleFigures = summarize(idle)
const loadedFigures = summarize(loaded)
console.log(`bystander password sign-in, ${signIns} sequential in each state (${rounds} alternating rounds), ms:`)
console.log(
  `  idle:                        p50 ${fixed(idleFigures.p50)}  p99 ${fixed(idleFigures.p99)}  max ${fixed(idleFigures.max)}`,
)
console.log(
  `  beside 4 hostile uploaders:  p50 ${fixed(loadedFigures.p50)}  p99 ${fixed(loadedFigures.p99)}  max ${fixed(loadedFigures.max)}`,
)
console.log(
  `  p99 ratio ${(loadedFigures.p99 / idleFigures.p99).toFixed(2)} (bound: 2); uploads answered meanwhile: ${Object.entries(
    statuses,
  )
    .map(([status, count]) => `${count}× ${status}`)
    .join(', ')}; auth process CPU ${Math.round((loadedCpuMs / 1000 / loadedSeconds) * 100)}% of a core while loaded`,
)
