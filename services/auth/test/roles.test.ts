import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually, parsePrometheusText, samplesOf } from '@gatehouse/testing'
import { createIsolatedDatabase, type IsolatedDatabase } from '../../../test/support/isolated-database.ts'
import { type AuthTestApp, signUp, startAuthApp, strongPassword } from './harness.ts'

// A database of this file's own: every worker process relays every unpublished row of the outbox
// it connects to, so on the shared database another file's processes would publish this one's.
describe('process roles (ROLE)', () => {
  let database: IsolatedDatabase
  before(async () => {
    database = await createIsolatedDatabase({ migrated: true })
  })
  after(() => database.drop())

  const waitingRows = async () =>
    (await database.sql<{ id: string }[]>`select id from auth.outbox where published_at is null`).length

  it('an API-only process writes events but never publishes them; a worker process does', async (t) => {
    const api = await startAuthApp({ ROLE: 'api' }, { databaseUrl: database.url })
    t.after(() => api.close())
    const { email } = await signUp(api.app)
    // The signup's own events (its confirmation link, the address confirmed) wait too.
    const signupRows = await waitingRows()
    const login = await api.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: strongPassword },
    })
    assert.equal(login.statusCode, 200)
    assert.equal(await waitingRows(), signupRows + 1, 'auth.login.succeeded waits in the outbox')
    // Longer than a relay's poll interval (1 s): a relay in this process would have taken it.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    assert.equal(await waitingRows(), signupRows + 1, 'still waiting: no relay runs in an API-only process')
    const backlog = parsePrometheusText((await api.app.inject({ url: '/metrics' })).body)
    assert.equal(samplesOf(backlog, 'gatehouse_outbox_waiting_rows')[0]?.value, signupRows + 1)

    const worker: AuthTestApp = await startAuthApp({ ROLE: 'worker' }, { databaseUrl: database.url })
    t.after(() => worker.close())
    await eventually('the worker to publish the waiting event', async () =>
      (await waitingRows()) === 0 ? true : undefined,
    )
  })

  it('a worker-only process answers health, readiness and metrics, and 404 on API routes', async (t) => {
    const worker = await startAuthApp({ ROLE: 'worker' }, { databaseUrl: database.url })
    t.after(() => worker.close())
    assert.equal((await worker.app.inject({ url: '/healthz' })).statusCode, 200)
    assert.equal((await worker.app.inject({ url: '/readyz' })).statusCode, 200)
    const metrics = await worker.app.inject({ url: '/metrics' })
    assert.equal(metrics.statusCode, 200)
    assert.ok(samplesOf(parsePrometheusText(metrics.body), 'gatehouse_outbox_waiting_rows').length === 1)
    for (const [method, url] of [
      ['POST', '/v1/auth/signup'],
      ['POST', '/v1/auth/login'],
      ['GET', '/v1/auth/session'],
      ['POST', '/internal/introspect'],
      ['GET', '/sso/saml/00000000-0000-0000-0000-000000000000/metadata'],
    ] as const) {
      const response = await worker.app.inject({ method, url, payload: method === 'POST' ? {} : undefined })
      assert.equal(response.statusCode, 404, `${method} ${url}`)
      assert.equal(response.json().error, 'not_found')
    }
  })

  it('refuses an unknown role at start with one line naming ROLE', async () => {
    await assert.rejects(
      startAuthApp({ ROLE: 'both' }, { databaseUrl: database.url }),
      /ROLE: "both" is not one of api, worker, all/,
    )
  })
})
