// Issue 15, acceptance 4, across real processes: each program's own /metrics after some traffic
// through web, and one request id in the logs of web, invitation and auth.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { type PrometheusSample, parsePrometheusText, samplesOf, uniqueEmail } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import type { RunningProcess } from '../support/processes.ts'
import { type Stack, startStack } from '../support/stack.ts'

const password = 'correct horse battery staple'

describe('metrics and request ids of the running programs', () => {
  let stack: Stack
  let auth: RunningProcess
  let invitation: RunningProcess
  let web: RunningProcess

  before(async () => {
    // Request lines (with their ids) are logged at info.
    stack = await startStack({ devIdp: false, env: { LOG_LEVEL: 'info' } })
    auth = stack.program('auth')
    invitation = stack.program('invitation')
    web = stack.program('web')
  })
  after(async () => {
    await stack?.stop()
  })

  async function scrape(program: RunningProcess): Promise<PrometheusSample[]> {
    const response = await fetch(`${program.url}/metrics`)
    assert.equal(response.status, 200)
    assert.match(String(response.headers.get('content-type')), /^text\/plain; version=0\.0\.4/)
    return parsePrometheusText(await response.text())
  }

  it('carries the id web gives a request to invitation and on to auth, ignoring one a client sends', async () => {
    const owner = await request(`${web.url}/v1/auth/signup`, { json: { email: uniqueEmail('owner'), password } })
    assert.equal(owner.status, 201, JSON.stringify(owner.body))
    const cookie = String(owner.cookies.session)
    const workspace = await request(`${web.url}/v1/workspaces`, { cookie, json: { name: 'Acme' } })
    assert.equal(workspace.status, 201)

    const invited = await fetch(`${web.url}/v1/invitations`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-request-id': 'chosen-by-a-client-123' },
      body: JSON.stringify({ workspaceId: workspace.body.workspace.id, email: uniqueEmail('invitee'), role: 'member' }),
    })
    assert.equal(invited.status, 201, await invited.text())
    const requestId = String(invited.headers.get('x-request-id'))
    assert.notEqual(requestId, 'chosen-by-a-client-123')
    assert.match(requestId, /^[0-9a-f-]{36}$/)

    const logged = (program: RunningProcess) => program.output().includes(`"reqId":"${requestId}"`)
    assert.ok(logged(web), 'web logs it')
    assert.ok(logged(invitation), 'invitation logs the id web forwarded')
    assert.ok(logged(auth), "auth logs it for invitation's session introspection")
    for (const program of [web, invitation, auth]) {
      assert.ok(!program.output().includes('chosen-by-a-client-123'), `${program.name} never uses the client's id`)
    }
  })

  it('each program answers /metrics with its own series; web does not pass /metrics on to auth', async () => {
    const login = await request(`${web.url}/v1/auth/login`, { json: { email: uniqueEmail('nobody'), password } })
    assert.equal(login.status, 401)

    const authSamples = await scrape(auth)
    assert.ok(
      (samplesOf(authSamples, 'gatehouse_password_sign_ins_total', { outcome: 'unknown_email' })[0]?.value ?? 0) >= 1,
    )
    assert.ok(
      (samplesOf(authSamples, 'gatehouse_http_request_duration_seconds_count', {
        service: 'auth',
        route: '/v1/auth/login',
        status_code: '401',
      })[0]?.value ?? 0) >= 1,
    )
    assert.equal(samplesOf(authSamples, 'gatehouse_queue_jobs', { queue: 'invitation-events' }).length, 4)
    assert.equal(samplesOf(authSamples, 'gatehouse_outbox_waiting_rows').length, 1)

    const invitationSamples = await scrape(invitation)
    assert.ok(
      (samplesOf(invitationSamples, 'gatehouse_http_request_duration_seconds_count', {
        service: 'invitation',
        method: 'POST',
        route: '/v1/invitations',
        status_code: '201',
      })[0]?.value ?? 0) >= 1,
    )
    assert.equal(samplesOf(invitationSamples, 'gatehouse_outbox_oldest_age_seconds').length, 1)
    // Counted from start-up on (batches tried while the Redis connection was still being made too).
    assert.ok(Number.isInteger(samplesOf(invitationSamples, 'gatehouse_outbox_publish_errors_total')[0]?.value))
    assert.equal(samplesOf(invitationSamples, 'gatehouse_queue_jobs', { state: 'failed' }).length, 1)
    assert.equal(samplesOf(invitationSamples, 'nodejs_eventloop_lag_seconds').length, 1)

    const webSamples = await scrape(web)
    assert.ok(
      webSamples.every((sample) => sample.labels.service === 'web'),
      'only web’s own series',
    )
    assert.equal(samplesOf(webSamples, 'gatehouse_password_sign_ins_total').length, 0)
    assert.ok(
      (samplesOf(webSamples, 'gatehouse_http_request_duration_seconds_count', {
        route: '/v1/*',
        method: 'POST',
        status_code: '401',
      })[0]?.value ?? 0) >= 1,
    )
  })

  it('serves every series the Grafana dashboard (infra/grafana) queries', async () => {
    const dashboard = readFileSync(new URL('../../infra/grafana/gatehouse.json', import.meta.url), 'utf8')
    const queried = new Set(dashboard.match(/\b(?:gatehouse|nodejs|process)_\w+/g))
    assert.ok(queried.size >= 8, [...queried].join())
    // Declared series count too: SSO sign-ins have no sample until the first one happens.
    const texts = await Promise.all(
      [auth, invitation, web].map(async (program) => (await fetch(`${program.url}/metrics`)).text()),
    )
    const served = new Set(
      texts.flatMap((text) => [
        ...parsePrometheusText(text).map((sample) => sample.name),
        ...[...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]),
      ]),
    )
    for (const name of queried) assert.ok(served.has(name), `${name} is on the dashboard but no program serves it`)
  })
})
