import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRedis, pingRedis } from '@gatehouse/server/redis'
import { redisKeyPrefixes } from '@gatehouse/server/redis-keys'
import { uniqueEmail } from '@gatehouse/testing'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import {
  type AuthTestApp,
  postToAcs,
  signInSpInitiated,
  signUp,
  startAuthApp,
  strongPassword,
  workspaceWithSso,
} from './harness.ts'

describe('what auth keeps in Redis', () => {
  let auth: AuthTestApp
  let redisUrl: string
  before(async () => {
    redisUrl = await unusedRedisDatabaseUrl()
    auth = await startAuthApp({ REDIS_URL: redisUrl })
  })
  after(() => auth.close())

  it('is only keys of the declared families, each with a lifetime (Redis runs noeviction)', async () => {
    // Wrong passwords, then the right one (failure counters, the known networks, login limits).
    const person = await signUp(auth.app)
    const login = (password: string) =>
      auth.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: person.user.email, password },
        remoteAddress: '203.0.113.7',
      })
    assert.equal((await login('not the password')).statusCode, 401)
    assert.equal((await login(strongPassword)).statusCode, 200)
    // An unsolicited SSO sign-in waiting for confirmation (its assertion remembered), and a refusal.
    const { owner, workspace, connection, idp } = await workspaceWithSso(auth.app, { allowIdpInitiated: true })
    const unsolicited = idp.responseBase64({ sp: connection.sp, user: { email: owner.email } })
    assert.equal((await postToAcs(auth.app, connection.id, { SAMLResponse: unsolicited })).statusCode, 200)
    const stranger = idp.responseBase64({ sp: connection.sp, user: { email: uniqueEmail('stranger') } })
    assert.equal((await postToAcs(auth.app, connection.id, { SAMLResponse: stranger })).statusCode, 403)
    // An SP-initiated sign-in (its answered start remembered).
    const signedIn = await signInSpInitiated(auth.app, connection, idp, { email: owner.email })
    assert.equal(signedIn.acs.statusCode, 302, signedIn.acs.body)
    // A test sign-in run to its end (its result kept for the tester), and one left at the IdP (who is testing).
    const startTest = async () => {
      const started = await auth.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${workspace.id}/sso/test`,
        headers: { cookie: owner.cookie },
      })
      assert.equal(started.statusCode, 200, started.body)
      return started
    }
    const started = await startTest()
    const location = new URL(started.json().redirectUrl)
    const relayState = location.searchParams.get('RelayState') ?? ''
    const binding = started.cookies.find((candidate) => candidate.name === `saml_pending_${relayState}`)
    const request = idp.parseAuthnRequest({
      SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
      RelayState: relayState,
    })
    const tested = await postToAcs(
      auth.app,
      connection.id,
      {
        SAMLResponse: idp.responseBase64({ sp: connection.sp, user: { email: owner.email }, inResponseTo: request.id }),
        RelayState: relayState,
      },
      `${binding?.name}=${binding?.value}; ${owner.cookie}`,
    )
    assert.equal(tested.statusCode, 302, tested.body)
    await startTest()

    const redis = createRedis(redisUrl)
    try {
      await pingRedis(redis)
      const keys: string[] = []
      let cursor = '0'
      do {
        const [next, batch] = await redis.scan(cursor, 'COUNT', 1000)
        cursor = next
        keys.push(...batch)
      } while (cursor !== '0')
      const ours = keys.filter((key) => !key.startsWith('bull:') && key !== 'auth-events')
      const families = new Set(ours.map((key) => redisKeyPrefixes.find((prefix) => key.startsWith(prefix))))
      for (const prefix of redisKeyPrefixes) assert.ok(families.has(prefix), `no ${prefix} key was written`)
      for (const key of ours) {
        assert.ok(
          redisKeyPrefixes.some((prefix) => key.startsWith(prefix)),
          `${key} is not of a family declared in redis-keys.ts`,
        )
        // -1: no lifetime. (-2: gone since the scan, which a key with a short lifetime may be.)
        assert.notEqual(await redis.pttl(key), -1, `${key} never expires`)
      }
    } finally {
      redis.disconnect()
    }
  })
})
