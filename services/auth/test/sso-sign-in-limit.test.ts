// Each successful SSO sign-in opens a session row, and a connection's IdP can mint genuine
// responses at will: successful sign-ins per (account, connection) are limited (10 a minute and
// 60 an hour by default; SSO_SIGN_INS_PER_MINUTE / _PER_HOUR), 429 rate_limited with Retry-After.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type AuthTestApp,
  postAndConfirm,
  sessionCookieOf,
  signInSpInitiated,
  signUp,
  startAuthApp,
  workspaceWithSso,
} from './harness.ts'

describe('successful SSO sign-ins per account and connection', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp()
  })
  after(() => auth.close())

  it('lets a person sign in 10 times in a minute through one connection, then answers 429 with Retry-After', async () => {
    const person = await signUp(auth.app)
    const acme = await workspaceWithSso(auth.app, { owner: person })
    for (let signIn = 1; signIn <= 10; signIn++) {
      const { acs } = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
      assert.equal(acs.statusCode, 302, `sign-in ${signIn}: ${acs.body}`)
    }
    const { acs: refused } = await signInSpInitiated(auth.app, acme.connection, acme.idp, { email: person.email })
    assert.equal(refused.statusCode, 429, refused.body)
    assert.equal(refused.json().error, 'rate_limited')
    assert.match(refused.json().message, /Too many sign-ins to this workspace/)
    const retryAfter = Number(refused.headers['retry-after'])
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`)
    assert.equal(sessionCookieOf(refused), undefined)

    // Another connection of the same person, and another member of the same connection, go on.
    const globex = await workspaceWithSso(auth.app, { owner: person })
    const elsewhere = await signInSpInitiated(auth.app, globex.connection, globex.idp, { email: person.email })
    assert.equal(elsewhere.acs.statusCode, 302, elsewhere.acs.body)
  })

  it('counts confirmed IdP-initiated sign-ins alike, and the hourly limit too', async () => {
    const limited = await startAuthApp({ SSO_SIGN_INS_PER_MINUTE: '100', SSO_SIGN_INS_PER_HOUR: '3' })
    try {
      const { owner, connection, idp } = await workspaceWithSso(limited.app, { allowIdpInitiated: true })
      const signInFromIdp = () =>
        postAndConfirm(limited.app, connection.id, {
          SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: owner.email } }),
        })
      for (let signIn = 1; signIn <= 3; signIn++) {
        const confirmed = await signInFromIdp()
        assert.equal(confirmed.statusCode, 302, `sign-in ${signIn}: ${confirmed.body}`)
      }
      const refused = await signInFromIdp()
      assert.equal(refused.statusCode, 429, refused.body)
      assert.equal(refused.json().error, 'rate_limited')
      assert.ok(Number(refused.headers['retry-after']) > 60, 'the hour is what is left to wait')
    } finally {
      await limited.close()
    }
  })

  it('refuses a limit that is not a positive whole number at start', async () => {
    await assert.rejects(startAuthApp({ SSO_SIGN_INS_PER_HOUR: '0' }), /SSO_SIGN_INS_PER_HOUR/)
  })
})
