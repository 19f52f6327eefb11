import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueEmail, uniqueIp } from '@gatehouse/testing'
import { eq } from 'drizzle-orm'
import { users } from '../src/db/schema.ts'
import { type AuthTestApp, publicUrl, sessionCookieOf, signUp, startAuthApp, strongPassword } from './harness.ts'

describe('password accounts and sessions', () => {
  let auth: AuthTestApp
  before(async () => {
    // The cost production hashes at: these tests' sign-ins and throttles run at it.
    auth = await startAuthApp({}, { owaspPasswordHashing: true })
  })
  after(() => auth.close())

  it('signs up with a normalized email, opens a session and records how the account was made', async () => {
    const email = `  ${uniqueEmail('New').toUpperCase()} `
    const response = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      remoteAddress: uniqueIp(),
      payload: { email, password: strongPassword, firstName: 'Ada', lastName: 'Lovelace' },
    })
    assert.equal(response.statusCode, 201)
    const { user } = response.json()
    assert.equal(user.email, email.trim().toLowerCase())
    assert.equal(user.firstName, 'Ada')
    assert.equal(user.passwordHash, undefined, 'the hash never leaves the service')
    const [stored] = await auth.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, user.id))
    // argon2id at OWASP's m=19 MiB, t=2, p=1 (the Password Storage Cheat Sheet), buildApp's default.
    assert.match(stored?.passwordHash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    const cookie = response.cookies.find((candidate) => candidate.name === 'session')
    assert.ok(cookie)
    assert.equal(cookie.value.length, 43, '256-bit token, base64url')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'Lax')
    assert.equal(cookie.path, '/')
    assert.equal(cookie.secure, undefined, 'no Secure flag on plain-http PUBLIC_URL')

    const session = await auth.app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: { cookie: `session=${cookie.value}` },
    })
    assert.equal(session.statusCode, 200)
    assert.equal(session.json().user.id, user.id)
    assert.deepEqual(session.json().memberships, [])
  })

  it('refuses a taken email, an invalid email and weak passwords with their codes', async () => {
    const { email } = await signUp(auth.app)
    const cases = [
      { payload: { email: email.toUpperCase(), password: strongPassword }, status: 409, code: 'email_taken' },
      { payload: { email: 'not-an-email', password: strongPassword }, status: 400, code: 'invalid_email' },
      { payload: { email: uniqueEmail(), password: 'short1' }, status: 400, code: 'weak_password' },
      { payload: { email: uniqueEmail(), password: 'Password123' }, status: 400, code: 'weak_password' },
      { payload: { email: uniqueEmail(), password: 'x'.repeat(257) }, status: 400, code: 'weak_password' },
    ]
    for (const { payload, status, code } of cases) {
      const response = await auth.app.inject({
        method: 'POST',
        url: '/v1/auth/signup',
        remoteAddress: uniqueIp(),
        payload,
      })
      assert.equal(response.statusCode, status, `${payload.email}: ${response.body}`)
      assert.equal(response.json().error, code)
      assert.equal(sessionCookieOf(response), undefined)
    }
  })

  it('logs in with a new token each time, refuses wrong credentials alike, and logs out for good', async () => {
    const { email, cookie: signupCookie } = await signUp(auth.app)
    const wrong = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: 'wrong password!' },
    })
    const unknown = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress: uniqueIp(),
      payload: { email: uniqueEmail(), password: strongPassword },
    })
    for (const response of [wrong, unknown]) {
      assert.equal(response.statusCode, 401)
      assert.equal(response.json().error, 'invalid_credentials')
      assert.equal(response.json().message, wrong.json().message, 'no hint whether the email exists')
    }

    const login = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: strongPassword },
    })
    assert.equal(login.statusCode, 200)
    const cookie = sessionCookieOf(login)
    assert.ok(cookie)
    assert.notEqual(cookie, signupCookie, 'a login rotates the session token')

    const logout = await auth.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie } })
    assert.equal(logout.statusCode, 204)
    const after = await auth.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } })
    assert.equal(after.statusCode, 401)
    assert.equal(after.json().error, 'unauthenticated')
    // The other session (from signup) is untouched.
    const other = await auth.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: signupCookie } })
    assert.equal(other.statusCode, 200)
  })

  const logIn = (email: string, password: string, remoteAddress: string) =>
    auth.app
      .inject({ method: 'POST', url: '/v1/auth/login', remoteAddress, payload: { email, password } })
      .then((response) => {
        if (response.statusCode === 429) assert.equal(response.json().error, 'rate_limited')
        return response.statusCode
      })
  const uniqueNetwork64 = () => `2001:db8:${uniqueIp().split('.').slice(1).join(':')}`

  it('lets the owner sign in from their network while wrong passwords for their email pour in from others', async () => {
    const home = uniqueIp()
    const { email } = await signUp(auth.app, uniqueEmail(), {}, home)
    // One attacker network: its guesses are held back after five.
    const attacker = uniqueNetwork64()
    const fromOneNetwork: number[] = []
    for (let host = 1; host <= 11; host++)
      fromOneNetwork.push(await logIn(email, 'wrong password!', `${attacker}::${host}`))
    assert.deepEqual(fromOneNetwork, [...Array(5).fill(401), ...Array(6).fill(429)])
    // A botnet: one guess from each of many networks, until strangers are held back for this email.
    const fromMany: number[] = []
    for (let count = 0; count < 26; count++) fromMany.push(await logIn(email, 'wrong password!', uniqueIp()))
    assert.deepEqual(fromMany, [...Array(25).fill(401), 429])
    assert.equal(await logIn(email, strongPassword, home), 200, 'the owner, on their own network')
  })

  it('counts wrong passwords per IPv6 /64, backs off, and forgives a network once the owner signs in there', async () => {
    const network = uniqueNetwork64()
    const { email } = await signUp(auth.app, uniqueEmail(), {}, `${network}::1`)
    for (let host = 2; host <= 6; host++)
      assert.equal(await logIn(email, 'wrong password!', `${network}::${host}`), 401)
    assert.equal(await logIn(email, strongPassword, `${network}::7`), 429, 'a fresh address of the same /64 waits')
    assert.equal(await logIn(email, 'wrong password!', `${uniqueNetwork64()}::2`), 401, 'another /64 does not')
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    assert.equal(await logIn(email, strongPassword, `${network}::8`), 200, 'after the first back-off')
    for (let attempt = 0; attempt < 5; attempt++) {
      assert.equal(await logIn(email, 'wrong password!', `${network}::9`), 401, 'the success cleared the count')
    }
  })

  it('limits signup and SSO discovery per email and network, leaving other networks alone', async () => {
    const email = uniqueEmail('limited')
    const attempt = (url: string, payload: object, remoteAddress: string) =>
      auth.app.inject({ method: 'POST', url, remoteAddress, payload }).then((response) => {
        if (response.statusCode === 429) assert.equal(response.json().error, 'rate_limited')
        return response.statusCode
      })
    const prober = uniqueNetwork64()
    const signups: number[] = []
    for (let host = 1; host <= 6; host++) {
      signups.push(await attempt('/v1/auth/signup', { email, password: strongPassword }, `${prober}::${host}`))
    }
    assert.deepEqual(signups, [201, 409, 409, 409, 409, 429])
    assert.equal(await attempt('/v1/auth/signup', { email, password: strongPassword }, uniqueIp()), 409)

    const discoveries: number[] = []
    for (let host = 1; host <= 11; host++) {
      discoveries.push(await attempt('/v1/auth/sso/discover', { email }, `${prober}::${host}`))
    }
    assert.deepEqual(discoveries, [...Array(10).fill(200), 429])
    assert.equal(await attempt('/v1/auth/sso/discover', { email }, uniqueIp()), 200, "a colleague's network")
  })

  it('refuses state-changing requests from another origin and bodies that are not JSON', async () => {
    const foreign = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      remoteAddress: uniqueIp(),
      headers: { origin: 'https://evil.example' },
      payload: { email: uniqueEmail(), password: strongPassword },
    })
    assert.equal(foreign.statusCode, 403)
    assert.equal(foreign.json().error, 'forbidden_origin')

    const sameOrigin = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      remoteAddress: uniqueIp(),
      headers: { origin: publicUrl },
      payload: { email: uniqueEmail(), password: strongPassword },
    })
    assert.equal(sameOrigin.statusCode, 201)

    const form = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress: uniqueIp(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=${encodeURIComponent(uniqueEmail())}&password=whatever12345`,
    })
    assert.equal(form.statusCode, 415)
    assert.equal(form.json().error, 'unsupported_media_type')
  })

  it('ignores a forged or garbage session cookie', async () => {
    for (const cookie of ['session=forged', `session=${'A'.repeat(43)}`, `session=${'x'.repeat(5000)}`]) {
      const response = await auth.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } })
      assert.equal(response.statusCode, 401)
    }
  })
})
