// What tests across the workspace share: where the real Postgres and Redis are, and names
// unique to one test so that tests can run together against one database.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The Postgres the tests use: `DATABASE_URL` (CI makes a fresh database per run), else the local one. */
export const postgresUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'

export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

/** A URL nothing listens on, for tests of what happens when a dependency is down. */
export const unreachableRedisUrl = 'redis://127.0.0.1:1'
export const unreachablePostgresUrl = 'postgres://postgres@127.0.0.1:1/test'

/** A fresh directory, removed by the returned function. */
export function temporaryDirectory(prefix = 'gatehouse-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/**
 * A TCP proxy to a real server (Postgres, Redis) that a test can cut, to see how a service
 * behaves when that dependency stops answering — without stopping the shared server — and
 * restore on the same port, as a server coming back after a restart or a failover.
 */
export async function cuttableProxy(target: { host: string; port: number }): Promise<{
  port: number
  /** Drops every connection and refuses new ones (ECONNREFUSED), as a stopped server does. */
  cut: () => Promise<void>
  /** Accepts connections again on the same port. */
  restore: () => Promise<void>
}> {
  const { createServer, connect } = await import('node:net')
  const sockets = new Set<import('node:net').Socket>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => socket.destroy())
    }
    client.pipe(upstream).pipe(client)
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(0)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  const port = address.port
  return {
    port,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        if (!server.listening) return resolve()
        server.close(() => resolve())
      }),
    restore: () => (server.listening ? Promise.resolve() : listen(port)),
  }
}

/** The same URL pointing at another host:port (e.g. through a proxy). */
export function withPort(url: string, port: number): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(port)
  return parsed.href
}

export { startDnsServer, type TestDnsServer } from './dns-server.ts'
export { eventually } from './eventually.ts'
export {
  type HostileRequest,
  hostileRequests,
  hostileValues,
  type Injectable,
  serverErrorsFor,
} from './hostile-requests.ts'
export { type PrometheusSample, parsePrometheusText, samplesOf } from './prometheus-text.ts'
export {
  lassoAcceptsAuthnRequest,
  lassoMissing,
  opensslMissing,
  type RedirectSignatureCheck,
  verifyRedirectSignature,
} from './redirect-signature.ts'
export { type RedisProcess, startRedisProcess } from './redis-process.ts'
export { skipUnlessInstalled } from './required-tools.ts'
export { returnToCases } from './return-to-cases.ts'
export { sparePort } from './spare-port.ts'
export { uniqueEmail, uniqueIp, uniqueSuffix } from './unique.ts'

/**
 * Pressure limits for apps built inside a test process: the test's own work shares their event
 * loop (the dev IdP checks every SAML message with a synchronous xmllint), and a blocked second
 * would have the app turn the next request away with 503 as production rightly does.
 */
export const inProcessPressureLimits = { maxEventLoopDelayMs: 60_000 }
