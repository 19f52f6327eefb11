// Issue 12, item 6: under `pnpm dev` every local program shares loopback with the web gateway, so
// trusting loopback's X-Forwarded-For let any local client name itself anyone to every
// per-network limit. Auth and invitation run as `pnpm dev` runs them (TRUST_PROXY=loopback and
// the GATEWAY_SECRET scripts/dev.ts gives the gateway and the services); the address auth
// believes is read back from the auth.login.failed events it publishes.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type AuthEvent, type Subscription, subscribe } from '@gatehouse/events'
import { eventually, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import { request, uniqueLoopbackAddress } from '../support/http-client.ts'
import type { RunningProcess } from '../support/processes.ts'
import { type Stack, startStack } from '../support/stack.ts'

describe('auth believes X-Forwarded-For from the gateway only (pnpm dev)', () => {
  const gatewaySecret = randomBytes(32).toString('base64url')
  const failedLogins = new Map<string, string>()
  let stack: Stack
  let auth: RunningProcess
  let web: RunningProcess
  let subscription: Subscription

  before(async () => {
    // As `pnpm dev` runs them: behind the gateway, auth and invitation trust loopback (the stack's
    // TRUST_PROXY), and all three share the gateway's secret.
    stack = await startStack({ devIdp: false, env: { GATEWAY_SECRET: gatewaySecret } })
    auth = stack.program('auth')
    web = stack.program('web')
    subscription = await subscribe(
      { redisUrl: stack.redisUrl, group: `e2e-forwarded-for-${uniqueSuffix()}`, from: 'now' },
      async (event: AuthEvent) => {
        if (event.type === 'auth.login.failed') failedLogins.set(event.email, event.ip)
      },
    )
  })
  after(async () => {
    await subscription?.close()
    await stack?.stop()
  })

  /** The address auth recorded for a failed sign-in sent to `base` from `sourceAddress`. */
  async function addressSeen(base: string, sourceAddress: string, headers: Record<string, string> = {}) {
    const email = uniqueEmail('forwarded')
    const refused = await request(`${base}/v1/auth/login`, {
      json: { email, password: 'not the password 0123' },
      sourceAddress,
      headers,
    })
    assert.equal(refused.status, 401, JSON.stringify(refused.body))
    return eventually('the auth.login.failed event', async () => failedLogins.get(email), { timeoutMs: 15_000 })
  }

  it('ignores the X-Forwarded-For of a local client talking to auth directly', async () => {
    const client = uniqueLoopbackAddress()
    assert.equal(await addressSeen(auth.url, client, { 'x-forwarded-for': '203.0.113.7' }), client)
    // Naming a gateway secret it does not know changes nothing.
    const guessed = { 'x-forwarded-for': '203.0.113.8', 'x-gatehouse-gateway': randomBytes(32).toString('base64url') }
    assert.equal(await addressSeen(auth.url, client, guessed), client)
  })

  it('believes the gateway, which names the client it served (and ignores what the client claimed)', async () => {
    const client = uniqueLoopbackAddress()
    assert.equal(await addressSeen(web.url, client, { 'x-forwarded-for': '198.51.100.9' }), client)
  })
})
