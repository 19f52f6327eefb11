// A Redis of the test's own on a spare port, which the test can stop and start again: the shared
// Redis must never be stopped under other engineers' tests. Nothing is persisted (`--save ''`,
// no AOF), so a restarted Redis is empty, as after losing a cache node.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { sparePort } from './spare-port.ts'

export interface RedisProcess {
  /** `redis://127.0.0.1:<port>`, the same across restarts. */
  url: string
  /** Starts it again (after `stop`) on the same port; resolves once it answers PING. */
  start(): Promise<void>
  /** SIGKILL: clients see their connections drop, as in a crash or a network cut. */
  stop(): Promise<void>
  isRunning(): boolean
}

export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await sparePort()
  let child: ChildProcess | undefined

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return
    let output = ''
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    started.stdout?.on('data', (chunk) => {
      output = (output + chunk).slice(-2000)
    })
    started.stderr?.on('data', (chunk) => {
      output = (output + chunk).slice(-2000)
    })
    child = started
    const deadline = Date.now() + 10_000
    while (!(await answersPing(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL')
        throw new Error(`redis-server did not start on port ${port}:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async function stop(): Promise<void> {
    const running = child
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = once(running, 'exit')
    running.kill('SIGKILL')
    await exited
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
  }
}

/** One PING over a raw socket: no client library, so no reconnection logic to outlive the probe. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    const finish = (answered: boolean) => {
      socket.destroy()
      resolve(answered)
    }
    socket.setTimeout(1_000, () => finish(false))
    socket.on('error', () => finish(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'))
    })
  })
}
