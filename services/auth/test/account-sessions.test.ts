import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GatehouseEvent } from '@gatehouse/events'
import { sql } from 'drizzle-orm'
import { outbox } from '../src/db/schema.ts'
import { deviceOf } from '../src/sessions/devices.ts'
import {
  type AuthTestApp,
  personInTwoWorkspaces,
  sessionCookieOf,
  signUp,
  startAuthApp,
  strongPassword,
} from './harness.ts'

const firefoxOnWindows = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
const safariOnIphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'

interface SessionView {
  id: string
  method: string
  workspaceId: string | null
  workspaceName: string | null
  device: { description: string }
  ip: string | null
  current: boolean
}

describe('sessions a person sees and ends', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, cookie: string) =>
    auth.app.inject({ method, url, headers: { cookie } })

  async function logIn(email: string, userAgent: string, remoteAddress: string) {
    const response = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'user-agent': userAgent },
      remoteAddress,
      payload: { email, password: strongPassword },
    })
    assert.equal(response.statusCode, 200, response.body)
    return sessionCookieOf(response) ?? ''
  }

  const list = async (cookie: string) =>
    (await inject('GET', '/v1/auth/sessions', cookie)).json().sessions as SessionView[]

  it('lists every live session with how it was authenticated, what it reaches, device and address; ends one and all others', async () => {
    const { acme, person, ssoCookie } = await personInTwoWorkspaces(auth.app)
    const laptop = await logIn(person.email, firefoxOnWindows, '198.51.100.7')
    const phone = await logIn(person.email, safariOnIphone, '203.0.113.9')

    const sessions = await list(laptop)
    assert.equal(sessions.length, 4)
    const mine = sessions.find((session) => session.current)
    assert.deepEqual(mine && [mine.method, mine.device.description, mine.ip], [
      'password',
      'Firefox on Windows',
      '198.51.100.7',
    ])
    const saml = sessions.find((session) => session.method === 'saml')
    assert.deepEqual(saml && [saml.workspaceId, saml.workspaceName], [acme.workspace.id, 'Acme'])
    assert.ok(sessions.some((session) => session.device.description === 'Safari on iOS'))

    const phoneSession = (await list(phone)).find((session) => session.current)
    assert.ok(phoneSession)
    assert.equal((await inject('DELETE', `/v1/auth/sessions/${phoneSession.id}`, laptop)).statusCode, 204)
    assert.equal((await inject('GET', '/v1/auth/session', phone)).statusCode, 401)
    assert.equal(
      (await inject('DELETE', `/v1/auth/sessions/${phoneSession.id}`, laptop)).json().error,
      'session_not_found',
    )

    const ended = await inject('POST', '/v1/auth/sessions/end-others', laptop)
    assert.deepEqual(ended.json(), { ended: 2 })
    assert.equal((await inject('GET', '/v1/auth/session', ssoCookie)).statusCode, 401)
    assert.equal((await inject('GET', '/v1/auth/session', person.cookie)).statusCode, 401)
    assert.deepEqual(
      (await list(laptop)).map((session) => session.current),
      [true],
    )

    const logouts = await auth.db
      .select()
      .from(outbox)
      .where(sql`${outbox.type} = 'auth.logout' and ${outbox.event}::jsonb ->> 'userId' = ${person.user.id}`)
    const reasons = logouts.map((row) => (row.event as GatehouseEvent & { reason?: string }).reason)
    assert.deepEqual(reasons, ['ended_elsewhere', 'ended_elsewhere', 'ended_elsewhere'])
  })

  it('a session made by a workspace’s IdP may not list or end the account’s sessions', async () => {
    const { ssoCookie } = await personInTwoWorkspaces(auth.app)
    for (const [method, url] of [
      ['GET', '/v1/auth/sessions'],
      ['POST', '/v1/auth/sessions/end-others'],
      ['DELETE', '/v1/auth/sessions/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const response = await inject(method, url, ssoCookie)
      assert.equal(response.statusCode, 403, url)
      assert.equal(response.json().error, 'reauthentication_required')
    }
  })

  it('nobody ends another person’s session', async () => {
    const alice = await signUp(auth.app)
    const bob = await signUp(auth.app)
    const bobsSession = (await list(bob.cookie))[0]
    assert.ok(bobsSession)
    const refused = await inject('DELETE', `/v1/auth/sessions/${bobsSession.id}`, alice.cookie)
    assert.equal(refused.json().error, 'session_not_found')
    assert.equal((await inject('GET', '/v1/auth/session', bob.cookie)).statusCode, 200)
  })

  it('reads a device from a user agent within bounds, whatever the header holds', () => {
    assert.equal(deviceOf(firefoxOnWindows).description, 'Firefox on Windows')
    assert.equal(deviceOf(safariOnIphone).description, 'Safari on iOS')
    assert.equal(
      deviceOf(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      ).description,
      'Edge on Linux',
    )
    assert.equal(
      deviceOf(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
      ).description,
      'Chrome on Linux',
    )
    assert.equal(deviceOf(null).description, 'No device information')
    assert.equal(deviceOf('x'.repeat(100_000)).description, 'Unknown device')
    assert.equal(deviceOf(`${'Version/1 '.repeat(20_000)}Safari/`).browser, null)
  })
})
