// Several SP-initiated sign-ins of one browser go on side by side (two tabs, a double click, two
// workspaces): each start is kept in a signed cookie of its own, named by its RelayState, so a
// second start no longer breaks the first (it used to end in in_response_to_mismatch).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueIp } from '@gatehouse/testing'
import type { LightMyRequestResponse } from 'fastify'
import { decodePendingLogin, encodePendingLogin, maxPendingLoginsPerBrowser } from '../src/sso/pending-logins.ts'
import { type AuthTestApp, postToAcs, sessionCookieOf, signUp, startAuthApp, workspaceWithSso } from './harness.ts'

type ConnectionView = Awaited<ReturnType<typeof workspaceWithSso>>['connection']

/** The cookies one browser holds for /sso/saml, as it keeps and drops them. */
class CookieJar {
  readonly cookies = new Map<string, string>()
  take(response: LightMyRequestResponse) {
    for (const cookie of response.cookies) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now())
      if (expired || cookie.value === '') this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
  }
  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
  pending() {
    return [...this.cookies.keys()].filter((name) => name.startsWith('saml_pending_'))
  }
}

describe('SP-initiated sign-ins side by side in one browser', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  async function start(browser: CookieJar, connection: ConnectionView, returnTo: string) {
    const response = await auth.app.inject({
      method: 'GET',
      url: `/sso/saml/${connection.id}/login?returnTo=${encodeURIComponent(returnTo)}`,
      headers: { cookie: browser.header() },
      remoteAddress: uniqueIp(),
    })
    assert.equal(response.statusCode, 302, response.body)
    browser.take(response)
    const location = new URL(String(response.headers.location))
    return { location, relayState: location.searchParams.get('RelayState') ?? '' }
  }

  async function finish(
    browser: CookieJar,
    setup: Awaited<ReturnType<typeof workspaceWithSso>>,
    started: Awaited<ReturnType<typeof start>>,
    email: string,
  ) {
    const request = setup.idp.parseAuthnRequest({
      SAMLRequest: started.location.searchParams.get('SAMLRequest') ?? '',
      RelayState: started.relayState,
    })
    const samlResponse = setup.idp.responseBase64({
      sp: setup.connection.sp,
      user: { email },
      inResponseTo: request.id,
    })
    const form = { SAMLResponse: samlResponse, RelayState: started.relayState }
    const acs = await postToAcs(auth.app, setup.connection.id, form, browser.header())
    browser.take(acs)
    return { acs, form }
  }

  it('signs in both of two starts, answered in the opposite order, and refuses a replay of either', async () => {
    const setup = await workspaceWithSso(auth.app)
    const browser = new CookieJar()
    const first = await start(browser, setup.connection, '/first-tab')
    const second = await start(browser, setup.connection, '/second-tab')
    assert.equal(browser.pending().length, 2)

    const secondAnswer = await finish(browser, setup, second, setup.owner.email)
    assert.equal(secondAnswer.acs.statusCode, 302, secondAnswer.acs.body)
    assert.equal(secondAnswer.acs.headers.location, '/second-tab')
    assert.ok(sessionCookieOf(secondAnswer.acs))
    const firstAnswer = await finish(browser, setup, first, setup.owner.email)
    assert.equal(firstAnswer.acs.statusCode, 302, firstAnswer.acs.body)
    assert.equal(firstAnswer.acs.headers.location, '/first-tab')
    assert.ok(sessionCookieOf(firstAnswer.acs))
    assert.deepEqual(browser.pending(), [], 'each answered start is dropped')

    // Posted again, with the start's cookie still held (a browser that ignored the clearing) or not.
    const withCookie = `saml_pending_${first.relayState}=${'x'}`
    for (const cookie of [browser.header(), withCookie]) {
      const replayed = await postToAcs(auth.app, setup.connection.id, firstAnswer.form, cookie)
      assert.notEqual(replayed.statusCode, 302, replayed.body)
      assert.equal(sessionCookieOf(replayed), undefined)
    }
  })

  it("refuses a replay with 409 saml_replayed even from the browser that still holds the start's cookie", async () => {
    const setup = await workspaceWithSso(auth.app)
    const browser = new CookieJar()
    const started = await start(browser, setup.connection, '/')
    const kept = browser.header()
    const { acs, form } = await finish(browser, setup, started, setup.owner.email)
    assert.equal(acs.statusCode, 302, acs.body)
    const replayed = await postToAcs(auth.app, setup.connection.id, form, kept)
    assert.equal(replayed.statusCode, 409, replayed.body)
    assert.equal(replayed.json().error, 'saml_replayed')
    assert.equal(sessionCookieOf(replayed), undefined)
  })

  it('answers one start once: a second genuine response to the same AuthnRequest is refused 409 saml_replayed', async () => {
    const setup = await workspaceWithSso(auth.app)
    const browser = new CookieJar()
    const started = await start(browser, setup.connection, '/')
    // Whoever captured the start's cookie keeps it after the browser was told to clear it.
    const captured = browser.header()
    const { acs } = await finish(browser, setup, started, setup.owner.email)
    assert.equal(acs.statusCode, 302, acs.body)
    // A fresh response of the IdP (a new assertion ID, so not a replay of the first) to the same request.
    const request = setup.idp.parseAuthnRequest({
      SAMLRequest: started.location.searchParams.get('SAMLRequest') ?? '',
      RelayState: started.relayState,
    })
    const again = setup.idp.responseBase64({
      sp: setup.connection.sp,
      user: { email: setup.owner.email },
      inResponseTo: request.id,
    })
    const second = await postToAcs(
      auth.app,
      setup.connection.id,
      { SAMLResponse: again, RelayState: started.relayState },
      captured,
    )
    assert.equal(second.statusCode, 409, second.body)
    assert.equal(second.json().error, 'saml_replayed')
    assert.equal(sessionCookieOf(second), undefined)
  })

  it("signs in through two workspaces' connections started in one browser", async () => {
    const person = await signUp(auth.app)
    const acme = await workspaceWithSso(auth.app, { owner: person })
    const globex = await workspaceWithSso(auth.app, { owner: person })
    const browser = new CookieJar()
    const intoAcme = await start(browser, acme.connection, '/acme')
    const intoGlobex = await start(browser, globex.connection, '/globex')
    const globexAnswer = await finish(browser, globex, intoGlobex, person.email)
    assert.equal(globexAnswer.acs.statusCode, 302, globexAnswer.acs.body)
    assert.equal(globexAnswer.acs.headers.location, '/globex')
    const acmeAnswer = await finish(browser, acme, intoAcme, person.email)
    assert.equal(acmeAnswer.acs.statusCode, 302, acmeAnswer.acs.body)
    assert.equal(acmeAnswer.acs.headers.location, '/acme')
  })

  it(`keeps at most ${maxPendingLoginsPerBrowser} starts per browser, dropping the oldest`, async () => {
    const setup = await workspaceWithSso(auth.app)
    const browser = new CookieJar()
    const starts = []
    for (let index = 0; index < maxPendingLoginsPerBrowser + 2; index++) {
      starts.push(await start(browser, setup.connection, `/tab-${index}`))
      assert.ok(browser.pending().length <= maxPendingLoginsPerBrowser)
    }
    assert.equal(browser.pending().length, maxPendingLoginsPerBrowser)
    const [oldest, , newest] = [starts[0], starts[1], starts.at(-1)]
    assert.ok(oldest && newest)
    // The oldest start's answer is unsolicited now (this connection does not allow that).
    const dropped = await finish(browser, setup, oldest, setup.owner.email)
    assert.equal(dropped.acs.statusCode, 400, dropped.acs.body)
    assert.equal(dropped.acs.json().reason, 'in_response_to_mismatch')
    const kept = await finish(browser, setup, newest, setup.owner.email)
    assert.equal(kept.acs.statusCode, 302, kept.acs.body)
  })

  it('takes a start whose cookie was altered, or was made for another connection, as unsolicited', async () => {
    const setup = await workspaceWithSso(auth.app)
    const other = await workspaceWithSso(auth.app)
    const browser = new CookieJar()
    const started = await start(browser, setup.connection, '/')
    const [name = ''] = browser.pending()
    const signed = browser.cookies.get(name) ?? ''
    const [, signature] = decodeURIComponent(signed).split('.')
    // Everything right but the signature: the start's own request ID, another page to land on.
    const { id: requestId } = setup.idp.parseAuthnRequest({
      SAMLRequest: started.location.searchParams.get('SAMLRequest') ?? '',
      RelayState: started.relayState,
    })
    const forged = encodePendingLogin({
      connectionId: setup.connection.id,
      requestId,
      returnTo: '/forged',
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    })
    browser.cookies.set(name, `${forged}.${signature}`)
    const altered = await finish(browser, setup, started, setup.owner.email)
    assert.equal(altered.acs.statusCode, 400, altered.acs.body)
    assert.equal(altered.acs.json().reason, 'in_response_to_mismatch')

    // A genuine start of another connection, posted to this one's ACS.
    const elsewhere = await start(browser, other.connection, '/')
    const crossed = await finish(browser, setup, elsewhere, setup.owner.email)
    assert.equal(crossed.acs.statusCode, 400, crossed.acs.body)
  })

  it('keeps a start under 1 KB when its returnTo only grows past the limit once percent-encoded', async () => {
    const setup = await workspaceWithSso(auth.app)
    const browser = new CookieJar()
    // 512 characters as typed, over 3,000 as a path: the start's cookie must not carry that.
    const started = await start(browser, setup.connection, `/${'\u00e9'.repeat(511)}`)
    const [name = ''] = browser.pending()
    assert.ok((browser.cookies.get(name) ?? '').length < 1024, 'the pending cookie stays under 1 KB')
    const { acs } = await finish(browser, setup, started, setup.owner.email)
    assert.equal(acs.statusCode, 302, acs.body)
    assert.equal(acs.headers.location, '/')
  })

  it('starts beside cookies whose names it never sets (a name no Set-Cookie could carry is no 500)', async () => {
    const setup = await workspaceWithSso(auth.app)
    for (const planted of ['saml_pending_\u00e9=1', 'saml_pending_a b=1', 'saml_pending_=1']) {
      const response = await auth.app.inject({
        method: 'GET',
        url: `/sso/saml/${setup.connection.id}/login`,
        headers: { cookie: planted },
        remoteAddress: uniqueIp(),
      })
      assert.equal(response.statusCode, 302, `${planted}: ${response.body}`)
      assert.equal(response.cookies.filter((cookie) => cookie.name.startsWith('saml_pending_')).length, 1)
    }
  })

  it('reads back only well-formed, unexpired pending sign-ins of bounded size', () => {
    const pending = {
      connectionId: '0b8e7f5c-3a1d-4c59-9f0e-2d6b1a4c8e71',
      requestId: '_abc',
      returnTo: '/home',
      expiresAt: 2_000_000_000,
    }
    const now = 1_900_000_000_000
    assert.deepEqual(decodePendingLogin(encodePendingLogin(pending), now), pending)
    const elsewhere = { ...pending, startedByAnotherOrigin: true as const }
    assert.deepEqual(decodePendingLogin(encodePendingLogin(elsewhere), now), elsewhere)
    const test = { ...elsewhere, testId: 'AAAAAAAAAAAAAAAAAAAAAA' }
    assert.deepEqual(decodePendingLogin(encodePendingLogin(test), now), test)
    assert.equal(decodePendingLogin(encodePendingLogin(pending), 2_000_000_000_000), null, 'expired')
    assert.equal(decodePendingLogin(encodePendingLogin({ ...pending, returnTo: `/${'a'.repeat(600)}` }), now), null)
    assert.equal(decodePendingLogin(encodePendingLogin({ ...pending, connectionId: 'x' }), now), null)
    assert.equal(decodePendingLogin(encodePendingLogin({ ...pending, returnTo: 'https://evil.example' }), now), null)
    assert.equal(decodePendingLogin('not base64 json', now), null)
    assert.equal(decodePendingLogin('a'.repeat(5000), now), null)
    assert.ok(encodePendingLogin({ ...pending, returnTo: `/${'a'.repeat(511)}` }).length < 1000)
  })
})
