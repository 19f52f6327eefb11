// Starts the real service processes (not app.inject) for tests that cross process boundaries.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { join } from 'node:path'

const root = new URL('../../', import.meta.url).pathname

export interface RunningProcess {
  name: string
  url: string
  pid: number
  output: () => string
  /** Whether the process has not exited (for a test that a fault does not stop it). */
  running: () => boolean
  /** Sends the signal and resolves with the exit code and how long the process took to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: string | null; milliseconds: number }>
}

/** Each program, and the path that answers 200 once it is ready. */
export const entryPoints = {
  auth: { file: 'services/auth/src/server.ts', readyPath: '/readyz' },
  invitation: { file: 'services/invitation/src/server.ts', readyPath: '/readyz' },
  web: { file: 'services/web/src/server.ts', readyPath: '/readyz' },
  'dev-idp': { file: 'packages/dev-idp/src/server.ts', readyPath: '/' },
} as const

export type ProgramName = keyof typeof entryPoints

/**
 * The test file's environment without coverage: mapping every program's bundle back to the sources
 * cost the run's coverage report about 80 s on one core after the last file, so coverage is that of
 * the code the test files run in their own processes.
 */
function programEnvironment(): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _coverage, ...environment } = process.env
  return environment
}

/**
 * Programs run as production runs them, from `pnpm build`'s bundles (dist/server.mjs): a bundle
 * starts on a quarter of the CPU that the sources on type stripping take (about 1.7 s less per
 * start, and a test run starts well over a hundred). `pnpm test` builds them once before any file
 * starts and says so in TEST_PROGRAMS_BUILT; a file or benchmark run on its own builds them once
 * itself, so no test ever starts a stale bundle.
 */
let building: Promise<unknown> | undefined
function programsBuilt(): Promise<unknown> {
  if (process.env.TEST_PROGRAMS_BUILT === '1') return Promise.resolve()
  building ??= import('../../scripts/build.ts').then(({ buildPrograms }) => buildPrograms())
  return building
}

async function commandLine(name: ProgramName): Promise<string[]> {
  await programsBuilt()
  return [join(root, entryPoints[name].file.replace('/src/server.ts', '/dist/server.mjs'))]
}

// A test or benchmark that crashes must not leave its services running (holding ports, consuming
// queues): whatever is still alive when this process exits is killed with it.
const liveChildren = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL')
})

/** Spawns a program and resolves once it is ready (or rejects with its output). */
export async function startProcess(
  name: ProgramName,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunningProcess> {
  const child = spawn(process.execPath, await commandLine(name), {
    cwd: root,
    // A test machine runs many programs and test files at once on few cores: a starved process
    // must not answer 503 for it (the under-pressure limit has its own tests).
    env: { ...programEnvironment(), LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '60000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  liveChildren.add(child)
  child.once('exit', () => liveChildren.delete(child))
  // A test that fails before stopping its programs must still end: they do not keep this process
  // alive, and are killed as it exits (above).
  child.unref()
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref()
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const url = `http://127.0.0.1:${env.PORT}`
  const deadline = Date.now() + timeoutMs
  while (true) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${output}`)
    }
    const ready = await fetch(`${url}${entryPoints[name].readyPath}`).then(
      async (response) => {
        await response.body?.cancel()
        return response.status === 200
      },
      () => false,
    )
    if (ready) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    name,
    url,
    pid: child.pid as number,
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: (signal = 'SIGTERM') => stopProcess(child, signal),
  }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals) {
  const started = Date.now()
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode, milliseconds: 0 }
  }
  const exited = once(child, 'exit')
  child.kill(signal)
  // A process that ignores the signal must not hang the test run; the caller sees it was killed.
  const killer = setTimeout(() => child.kill('SIGKILL'), 12_000)
  const [code, exitSignal] = (await exited) as [number | null, string | null]
  clearTimeout(killer)
  return { code, signal: exitSignal, milliseconds: Date.now() - started }
}

/** Runs a service's entry point to completion (for start-up failures). */
export async function runToExit(name: ProgramName, env: Record<string, string>) {
  const child = spawn(process.execPath, await commandLine(name), {
    cwd: root,
    env: { ...programEnvironment(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}
