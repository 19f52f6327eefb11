// What hostile IdP metadata uploads cost, now that every XML input is bounded before parsing
// (packages/saml README, "XML limits") and parsed on auth's IdP configuration thread
// (services/auth/src/sso/idp-config-parser.ts). Two figures:
// 1. CPU time of the costliest uploads the limits allow: JSON body parse plus idpConfigFromMetadata
//    (the parse is synchronous, so this is what it holds its thread for), and the event loop's own
//    share, the JSON body parse, since the parse runs on the parser thread.
// 2. A bystander's password sign-in latency through a real auth process, idle and while 4 clients
//    post hostile metadata as fast as they are answered (each from an account and workspace of its
//    own; past an account's hourly changes the change limit answers 429). Sign-ins come from a
//    loopback address each, so per-network limits stay out.
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
let worstLoopMax = 0
console.log('CPU per upload (JSON body parse + idpConfigFromMetadata), ms over 40 runs after 10 warm-up:')
console.log(`  (machine load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`)
for (const { name, metadataXml, allowed } of uploads) {
  const body = JSON.stringify({ metadataXml })
  // CPU time of the call (what it holds the loop for on a core of its own), beside wall time,
  // which on a shared machine also counts the time this process waited for a core.
  const once = () => {
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    const { metadataXml: parsedXml } = JSON.parse(body)
    const loop = process.cpuUsage(cpuBefore)
    try {
      idpConfigFromMetadata(parsedXml, insideValidity)
    } catch (error) {
      if (!(error instanceof SamlConfigError)) throw error
    }
    const cpu = process.cpuUsage(cpuBefore)
    return {
      wall: performance.now() - started,
      cpu: (cpu.user + cpu.system) / 1000,
      loop: (loop.user + loop.system) / 1000,
    }
  }
  for (let run = 0; run < 10; run++) once()
  const runs = Array.from({ length: 40 }, once)
  const times = summarize(runs.map((run) => run.cpu))
  const wall = summarize(runs.map((run) => run.wall))
  const loop = summarize(runs.map((run) => run.loop))
  if (allowed) worstLoopMax = Math.max(worstLoopMax, loop.max)
  if (allowed) {
    worstAllowedP50 = Math.max(worstAllowedP50, times.p50)
    worstAllowedMax = Math.max(worstAllowedMax, times.max)
  }
  console.log(
    `  ${allowed ? 'allowed' : 'refused'}  cpu p50 ${fixed(times.p50)} max ${fixed(times.max)}  wall p50 ${fixed(wall.p50)} max ${fixed(wall.max)}  loop max ${fixed(loop.max)}  (${Math.round(body.length / 1024)} KiB) ${name}`,
  )
}
console.log(
  `worst allowed upload, CPU: p50 ${fixed(worstAllowedP50)} ms, max ${fixed(worstAllowedMax)} ms (bound: 50 ms); of it on the event loop (JSON body parse): max ${fixed(worstLoopMax)} ms`,
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

/** An account with a workspace whose SSO is on: 59 IdP changes left in its hour. */
async function uploader() {
  const { cookie } = await signUp()
  const workspace = (await request(`${auth.url}/v1/workspaces`, { json: { name: 'Bench' }, cookie })).body.workspace
  await request(`${auth.url}/v1/workspaces/${workspace.id}/sso`, { method: 'POST', cookie })
  return { cookie, url: `${auth.url}/v1/workspaces/${workspace.id}/sso/idp`, changesLeft: 59 }
}

/** An uploader whose hour of changes is used up (cheap PATCHes): each upload it sends is refused 429. */
async function spentUploader() {
  const account = await uploader()
  const settings = account.url.replace(/\/idp$/, '')
  for (;;) {
    const changed = await request(settings, { method: 'PATCH', json: { enabled: true }, cookie: account.cookie })
    if (changed.status === 429) return { ...account, changesLeft: 0 }
  }
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

// Two kinds of hostile uploaders, 4 clients each: `parsed`, spread over enough accounts that the
// change limit never stops them (every upload is parsed: the XML bounds and the parser thread are
// what is measured); `refused`, on 4 accounts past their hourly changes (every upload answered
// 429 before its body is read: what a client that ignores Retry-After costs).
const signIns = Number(process.env.BENCH_SIGN_INS ?? 200)
// Short rounds, so that the machine's own load, which drifts over seconds, colours every state alike.
const rounds = 20
const parsingAccounts = await Promise.all(
  Array.from({ length: Number(process.env.BENCH_UPLOADER_ACCOUNTS ?? 60) }, uploader),
)
const refusedAccounts = await Promise.all(Array.from({ length: 4 }, spentUploader))
const uploaders = fork(new URL('./metadata-uploaders.ts', import.meta.url), {
  env: { ...process.env, UPLOADERS: JSON.stringify({ parsed: parsingAccounts, refused: refusedAccounts }) },
  execArgv: ['--import', 'tsx'],
})
const tell = (message: string) => uploaders.send(message)
const phases = ['parsed', 'refused'] as const
type Phase = (typeof phases)[number]

// Idle and loaded phases alternate, so that the machine's other work colours them alike.
await signInLatencies(10)
const idle: number[] = []
const loaded = { parsed: [] as number[], refused: [] as number[] }
const cpu = { parsed: { auth: 0, uploaders: 0, seconds: 0 }, refused: { auth: 0, uploaders: 0, seconds: 0 } }
for (let round = 0; round < rounds; round++) {
  idle.push(...(await signInLatencies(signIns / rounds)))
  for (const phase of phases) {
    tell(phase)
    const authBefore = processCpuMs(auth.pid)
    const uploadersBefore = processCpuMs(uploaders.pid as number)
    const started = performance.now()
    loaded[phase].push(...(await signInLatencies(signIns / rounds)))
    cpu[phase].seconds += (performance.now() - started) / 1000
    cpu[phase].auth += processCpuMs(auth.pid) - authBefore
    cpu[phase].uploaders += processCpuMs(uploaders.pid as number) - uploadersBefore
    tell('pause')
  }
}
const answered = once(uploaders, 'message')
tell('stop')
const [statuses] = (await answered) as [Record<Phase, Record<string, number>>]
await stop()

const idleFigures = summarize(idle)
console.log(`bystander password sign-in, ${signIns} sequential in each state (${rounds} alternating rounds), ms:`)
console.log(
  `  idle:                                 p50 ${fixed(idleFigures.p50)}  p99 ${fixed(idleFigures.p99)}  max ${fixed(idleFigures.max)}`,
)
for (const phase of phases) {
  const figures = summarize(loaded[phase])
  const percentOfCore = (cpuMs: number) => Math.round((cpuMs / 1000 / cpu[phase].seconds) * 100)
  const answers = Object.entries(statuses[phase])
    .map(([status, count]) => `${count}× ${status}`)
    .join(', ')
  console.log(
    `  beside 4 uploaders, uploads ${phase}: p50 ${fixed(figures.p50)}  p99 ${fixed(figures.p99)}  max ${fixed(figures.max)}  p99 ratio ${(figures.p99 / idleFigures.p99).toFixed(2)} (bound: 2)`,
  )
  console.log(
    `    uploads answered: ${answers}; auth process CPU ${percentOfCore(cpu[phase].auth)}% of a core, the uploaders' (same cores) ${percentOfCore(cpu[phase].uploaders)}%`,
  )
}
