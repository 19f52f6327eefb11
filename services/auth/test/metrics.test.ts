import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parsePrometheusText, samplesOf, uniqueEmail } from '@gatehouse/testing'
import {
  type AuthTestApp,
  postToAcs,
  signUp,
  startAuthApp,
  startSpLogin,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

describe('auth /metrics after some traffic', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  it('counts sign-ins by method and outcome, requests by route, and reports the outbox and queues', async () => {
    const { owner, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const started = await startSpLogin(auth.app, connection)
    const ownerResponse = idp.responseBase64({
      sp: connection.sp,
      user: { email: owner.email },
      inResponseTo: started.requestId,
    })
    const form = { SAMLResponse: ownerResponse, RelayState: started.relayState }
    const signedIn = await postToAcs(auth.app, connection.id, form, started.bindingCookie)
    assert.equal(signedIn.statusCode, 302, signedIn.body)
    // Posted by a browser that did not start it, it answers a sign-in request of someone else's.
    const elsewhere = await postToAcs(auth.app, connection.id, form)
    assert.equal(elsewhere.json().reason, 'in_response_to_mismatch', elsewhere.body)
    const stranger = await postToAcs(auth.app, connection.id, {
      SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: uniqueEmail('stranger') } }),
    })
    assert.equal(stranger.statusCode, 403, stranger.body)

    const login = (email: string, password: string) =>
      auth.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })
    assert.equal((await login(owner.email, strongPassword)).statusCode, 200)
    assert.equal((await login(owner.email, 'not the password at all')).statusCode, 401)
    assert.equal((await login(uniqueEmail('nobody'), strongPassword)).statusCode, 401)
    const member = await signUp(auth.app)
    await auth.app.inject({ url: '/v1/auth/session', headers: { cookie: member.cookie } })

    const scraped = await auth.app.inject({ url: '/metrics' })
    assert.equal(scraped.statusCode, 200)
    const samples = parsePrometheusText(scraped.body)
    const value = (name: string, labels: Record<string, string>) => {
      const found = samplesOf(samples, name, labels)
      assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}`)
      return found[0]?.value ?? Number.NaN
    }
    assert.ok(value('gatehouse_sso_sign_ins_total', { outcome: 'succeeded', reason: 'none' }) >= 1)
    assert.ok(value('gatehouse_sso_sign_ins_total', { outcome: 'refused', reason: 'in_response_to_mismatch' }) >= 1)
    assert.ok(value('gatehouse_sso_sign_ins_total', { outcome: 'refused', reason: 'not_a_member' }) >= 1)
    assert.ok(value('gatehouse_password_sign_ins_total', { outcome: 'succeeded' }) >= 1)
    assert.ok(value('gatehouse_password_sign_ins_total', { outcome: 'wrong_password' }) >= 1)
    assert.ok(value('gatehouse_password_sign_ins_total', { outcome: 'unknown_email' }) >= 1)

    const requests = (route: string, status: string) =>
      value('gatehouse_http_request_duration_seconds_count', {
        service: 'auth',
        method: 'GET',
        route,
        status_code: status,
      })
    assert.ok(requests('/v1/auth/session', '200') >= 1)
    assert.ok(
      value('gatehouse_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/sso/saml/:connectionId/acs',
        status_code: '302',
      }) >= 1,
    )
    assert.equal(
      samplesOf(samples, 'gatehouse_http_request_duration_seconds_count', { route: `/sso/saml/${connection.id}/acs` })
        .length,
      0,
    )

    assert.ok(value('gatehouse_outbox_waiting_rows', { service: 'auth' }) >= 0)
    assert.ok(value('gatehouse_outbox_oldest_age_seconds', { service: 'auth' }) >= 0)
    assert.ok(Number.isInteger(value('gatehouse_outbox_publish_errors_total', { service: 'auth' })))
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      assert.ok(value('gatehouse_queue_jobs', { queue: 'invitation-events', state }) >= 0)
    }
    assert.ok(value('nodejs_eventloop_lag_seconds', { service: 'auth' }) >= 0)
  })
})
