import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRedis } from '@gatehouse/server'
import { eventually, redisUrl } from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { type AuthTestApp, createWorkspace, invitationAccepted, signUp, startAuthApp } from './harness.ts'

const internalToken = 'test-internal-token-that-is-long-enough-0123456789'

describe('what the invitation service relies on', () => {
  let auth: AuthTestApp
  before(async () => {
    auth = await startAuthApp({ INTERNAL_TOKEN: internalToken })
  })
  after(() => auth.close())

  it('grants SSO once the invitation.accepted event arrives on the queue, even when delivered twice', async () => {
    const owner = await signUp(auth.app)
    const bob = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const event = invitationAccepted(workspace.id, { userId: bob.user.id, email: bob.email })
    const redis = createRedis(redisUrl, { role: 'waiting' })
    const queue = new Queue('invitation-events', { connection: redis })
    try {
      // Two jobs with distinct ids but the same event: the consumer must apply it once.
      await queue.add(event.type, event, { jobId: event.id })
      await queue.add(event.type, event, { jobId: `${event.id}-again` })
      const memberships = await eventually(
        'the membership to be granted',
        async () => {
          const session = await auth.app.inject({
            method: 'GET',
            url: '/v1/auth/session',
            headers: { cookie: bob.cookie },
          })
          const granted: { ssoAllowed: boolean }[] = session.json().memberships
          return granted.length > 0 ? granted : undefined
        },
        { timeoutMs: 10_000, intervalMs: 25 },
      )
      assert.deepEqual(memberships, [
        {
          workspaceId: workspace.id,
          workspaceName: workspace.name,
          role: 'member',
          ssoAllowed: true,
          ssoRequired: false,
          reachable: true,
        },
      ])
    } finally {
      await queue.close()
      redis.disconnect()
    }
  })

  it('tells a holder of the internal token who a session is, and whether an email is a member', async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const sessionToken = owner.cookie.slice('session='.length)
    const answer = await auth.app.inject({
      method: 'POST',
      url: '/internal/introspect',
      headers: { authorization: `Bearer ${internalToken}` },
      payload: { sessionToken, workspaceId: workspace.id, email: owner.email.toUpperCase() },
    })
    assert.equal(answer.statusCode, 200, answer.body)
    // The account's age lets invitation hold young accounts to tighter mail limits.
    const createdAt = answer.json().user.createdAt
    assert.ok(Math.abs(Date.parse(createdAt) - Date.now()) < 60_000, `createdAt ${createdAt}`)
    assert.deepEqual(answer.json(), {
      user: { id: owner.user.id, email: owner.email, createdVia: 'password', createdAt },
      authentications: [{ method: 'password' }],
      account: { method: 'password' },
      workspace: {
        id: workspace.id,
        name: workspace.name,
        role: 'owner',
        emailIsMember: true,
        reachedBy: { method: 'password' },
        signIn: { password: '/login' },
      },
    })

    for (const authorization of [undefined, 'Bearer wrong', `Basic ${internalToken}`]) {
      const refused = await auth.app.inject({
        method: 'POST',
        url: '/internal/introspect',
        headers: authorization ? { authorization } : {},
        payload: { sessionToken },
      })
      assert.equal(refused.statusCode, 401)
    }
    const unknown = await auth.app.inject({
      method: 'POST',
      url: '/internal/introspect',
      headers: { authorization: `Bearer ${internalToken}` },
      payload: { sessionToken: 'nope' },
    })
    assert.equal(unknown.statusCode, 401)
    assert.equal(unknown.json().error, 'unauthenticated')
  })
})
