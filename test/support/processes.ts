// Starts the real service processes (not app.inject) for tests that cross process boundaries.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

const root = new URL('../../', import.meta.url).pathname

export interface RunningProcess {
  name: string
  url: string
  output: () => string
  /** Sends the signal and resolves with the exit code and how long the process took to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: string | null; milliseconds: number }>
}

export const entryPoints = {
  auth: 'services/auth/src/server.ts',
  invitation: 'services/invitation/src/server.ts',
} as const

/** Spawns a service and resolves once its /readyz answers 200 (or rejects with its output). */
export async function startProcess(
  name: keyof typeof entryPoints,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<RunningProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entryPoints[name]], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
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
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    )
    if (ready) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { name, url, output: () => output, stop: (signal = 'SIGTERM') => stopProcess(child, signal) }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals) {
  const started = Date.now()
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode, milliseconds: 0 }
  }
  const exited = once(child, 'exit')
  child.kill(signal)
  const [code, exitSignal] = (await exited) as [number | null, string | null]
  return { code, signal: exitSignal, milliseconds: Date.now() - started }
}

/** Runs a service's entry point to completion (for start-up failures). */
export async function runToExit(name: keyof typeof entryPoints, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', entryPoints[name]], {
    cwd: root,
    env: { ...process.env, ...env },
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
