// What the benches that drive a real auth process share: the process itself, on the test Postgres
// and a Redis database of its own (it consumes invitation-events and auth-events, which it must not
// take from anything else running on the machine), and a small HTTP client for it.
import { randomBytes } from 'node:crypto'
import { type Agent, request } from 'node:http'
import { postgresUrl, sparePort, temporaryDirectory } from '@gatehouse/testing'
import type { ProofContext } from '../support/account-proof.ts'
import { type RunningProcess, startProcess } from '../support/processes.ts'
import { unusedRedisDatabaseUrl } from '../support/redis-database.ts'

export interface BenchAuth {
  auth: RunningProcess
  /** What proving an account's address needs (test/support/account-proof.ts). */
  proof: ProofContext
  stop(): Promise<void>
}

/** One member signs in through one connection thousands of times: past the per-account limits. */
export const manySignIns = { SSO_SIGN_INS_PER_MINUTE: '100000000', SSO_SIGN_INS_PER_HOUR: '100000000' }

export async function startBenchAuth(env: Record<string, string> = {}): Promise<BenchAuth> {
  const dataDir = temporaryDirectory()
  const internalToken = randomBytes(32).toString('base64url')
  const auth = await startProcess('auth', {
    INTERNAL_TOKEN: internalToken,
    PORT: String(await sparePort()),
    DATABASE_URL: postgresUrl,
    REDIS_URL: await unusedRedisDatabaseUrl(),
    PUBLIC_URL: 'http://localhost:3000',
    DATA_DIR: dataDir.path,
    LOG_LEVEL: 'warn',
    ...env,
  })
  return {
    auth,
    proof: { databaseUrl: postgresUrl, internalToken, baseUrl: auth.url },
    async stop() {
      await auth.stop()
      dataDir.remove()
    },
  }
}

export interface BenchResponse {
  status: number
  cookies: string[]
  location?: string
  body: string
}

/** Requests to `baseUrl` through `agent`, or from `localAddress` on a connection of its own. */
export function httpCaller(baseUrl: string, agent: Agent) {
  return (method: string, path: string, body?: string, headers: Record<string, string> = {}, localAddress?: string) =>
    new Promise<BenchResponse>((resolve, reject) => {
      const connection = localAddress ? { agent: false as const, localAddress } : { agent }
      const outgoing = request(`${baseUrl}${path}`, { method, headers, ...connection }, (incoming) => {
        let text = ''
        incoming.on('data', (chunk) => {
          text += chunk
        })
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            cookies: incoming.headers['set-cookie'] ?? [],
            ...(incoming.headers.location ? { location: incoming.headers.location } : {}),
            body: text,
          }),
        )
      })
      outgoing.on('error', reject)
      outgoing.end(body)
    })
}
