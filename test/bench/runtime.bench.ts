// How each program starts and idles under the three ways Node can run this TypeScript, measured in
// one run so the figures compare: through tsx (esbuild compiling every module at start, in helper
// processes), through Node's own type stripping (`node src/server.ts`), and as one esbuild bundle
// per program (`pnpm build`, what production runs). For each program and mode: the CPU its process
// tree used from spawn until /readyz answers (migrations already applied), and the tree's resident
// memory after a few idle seconds.
// Every start is a production start (NODE_ENV=production) against the test Postgres and Redis.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { sparePort, temporaryDirectory } from '@gatehouse/testing'
import { buildPrograms, programs } from '../../scripts/build.ts'
import { processCpuMs } from '../support/cpu.ts'
import { createIsolatedDatabase } from '../support/isolated-database.ts'
import { entryPoints, type RunningProcess, startProcess } from '../support/processes.ts'
import { unusedRedisDatabaseUrl } from '../support/redis-database.ts'

const root = new URL('../../', import.meta.url).pathname
const rounds = Number(process.env.BENCH_ROUNDS || 3)
const idleMs = 5_000
const measured = ['auth', 'invitation', 'web'] as const
type Program = (typeof measured)[number]
const modes = ['tsx', 'type stripping', 'bundle'] as const
type Mode = (typeof modes)[number]

function commandFor(program: Program, mode: Mode): string[] {
  const source = join(root, entryPoints[program].file)
  if (mode === 'tsx') return ['--import', 'tsx', source]
  if (mode === 'type stripping') return [source]
  return [join(root, programs[program], 'dist', 'server.mjs')]
}

/** A process and all its descendants (tsx's esbuild helpers are children of node). */
function processTree(pid: number): number[] {
  const children: number[] = []
  try {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      const listed = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim()
      if (listed) children.push(...listed.split(' ').map(Number))
    }
  } catch {
    return []
  }
  return [pid, ...children.flatMap(processTree)]
}

function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, member) => sum + processCpuMs(member), 0)
}

function treeRssMb(pid: number): number {
  const kilobytes = processTree(pid).reduce((sum, member) => {
    const status = readFileSync(`/proc/${member}/status`, 'utf8')
    return sum + Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0)
  }, 0)
  return kilobytes / 1024
}

async function ready(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output()}`)
    const answered = await fetch(`${url}/readyz`).then(
      async (response) => {
        await response.body?.cancel()
        return response.status === 200
      },
      () => false,
    )
    if (answered) return
    await sleep(25)
  }
  throw new Error(`not ready within 60 s:\n${output()}`)
}

async function measure(program: Program, mode: Mode, env: Record<string, string>) {
  const port = await sparePort()
  const child = spawn(process.execPath, commandFor(program, mode), {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const pid = child.pid as number
  try {
    await ready(`http://127.0.0.1:${port}`, child, () => output)
    const startCpuMs = treeCpuMs(pid)
    await sleep(idleMs)
    return { startCpuMs, idleRssMb: treeRssMb(pid) }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN

const scratch = temporaryDirectory()
const database = await createIsolatedDatabase()
const helpers: RunningProcess[] = []
try {
  await buildPrograms([...measured])
  const redisUrl = await unusedRedisDatabaseUrl()
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    COOKIE_SECRET: 'c'.repeat(32),
    INTERNAL_TOKEN: 'i'.repeat(32),
    SP_KEY_SECRET: 's'.repeat(32),
    // Never reached: no invitation is sent while idling.
    SMTP_URL: 'smtp://127.0.0.1:9',
    MAIL_QUEUE: `bench-runtime-${process.pid}`,
    DATA_DIR: scratch.path,
  }
  // Web is ready only with auth and invitation answering; these serve its runs (and apply the
  // migrations once, so that no measured start pays for them).
  const authPort = String(await sparePort())
  const invitationPort = String(await sparePort())
  helpers.push(await startProcess('auth', { ...env, PORT: authPort }))
  helpers.push(await startProcess('invitation', { ...env, PORT: invitationPort, AUTH_URL: helpers[0]?.url ?? '' }))
  const programEnv: Record<Program, Record<string, string>> = {
    auth: env,
    invitation: { ...env, AUTH_URL: `http://127.0.0.1:${authPort}` },
    web: { ...env, AUTH_URL: `http://127.0.0.1:${authPort}`, INVITATION_URL: `http://127.0.0.1:${invitationPort}` },
  }

  const results = new Map<string, { startCpuMs: number[]; idleRssMb: number[] }>()
  for (let round = 1; round <= rounds; round++) {
    for (const program of measured) {
      for (const mode of modes) {
        const figures = await measure(program, mode, programEnv[program])
        const key = `${program}\t${mode}`
        const entry = results.get(key) ?? { startCpuMs: [], idleRssMb: [] }
        entry.startCpuMs.push(figures.startCpuMs)
        entry.idleRssMb.push(figures.idleRssMb)
        results.set(key, entry)
      }
    }
    console.log(`round ${round}/${rounds} done`)
  }

  console.log(`\nnode ${process.version}; median of ${rounds} production starts each (migrations already applied)`)
  console.log('program     mode             start-up CPU (ms)   idle RSS (MB)   vs tsx (CPU / RSS)')
  for (const program of measured) {
    const baseline = results.get(`${program}\ttsx`)
    for (const mode of modes) {
      const entry = results.get(`${program}\t${mode}`)
      if (!entry || !baseline) continue
      const cpu = median(entry.startCpuMs)
      const rss = median(entry.idleRssMb)
      const ratio = `${(cpu / median(baseline.startCpuMs)).toFixed(2)} / ${(rss / median(baseline.idleRssMb)).toFixed(2)}`
      console.log(
        `${program.padEnd(11)} ${mode.padEnd(16)} ${String(Math.round(cpu)).padStart(17)}   ${rss.toFixed(0).padStart(13)}   ${ratio}`,
      )
    }
  }
} finally {
  for (const helper of helpers) await helper.stop()
  await database.drop()
  scratch.remove()
}
