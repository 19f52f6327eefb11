import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createEvent } from '@gatehouse/events'
import { createRedis } from '@gatehouse/server/redis'
import { eventually } from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { and, eq, like, sql } from 'drizzle-orm'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import { auditLog, processedEvents } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  createWorkspace,
  holdInTransaction,
  invitationAccepted,
  lockWaiters,
  mailedToken,
  signUp,
  signUpUnproven,
  startAuthApp,
} from './harness.ts'

const internalToken = 'test-internal-token-that-is-long-enough-0123456789'

describe('what the invitation service relies on', () => {
  let auth: AuthTestApp
  let redisUrl: string
  before(async () => {
    // A Redis database of this file's own: another process's consumer of invitation-events (with a
    // Postgres database of its own) would otherwise take this file's events.
    redisUrl = await unusedRedisDatabaseUrl()
    auth = await startAuthApp({ INTERNAL_TOKEN: internalToken, REDIS_URL: redisUrl })
  })
  after(() => auth.close())

  /** Bob accepted an invitation of the owner's workspace at the invitation service: its event, not yet applied. */
  async function acceptedElsewhere() {
    const owner = await signUp(auth.app)
    const bob = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    return { owner, bob, workspace, event: invitationAccepted(workspace.id, { userId: bob.user.id, email: bob.email }) }
  }

  async function assertNoMembership(cookie: string, message: string) {
    const session = await auth.app.inject({ url: '/v1/auth/session', headers: { cookie } })
    assert.deepEqual(session.json().memberships, [], message)
  }

  /** The invitation service revoking an accepted invitation: the admin's session, the invitation's event. */
  async function revokeAccepted(ownerCookie: string, event: ReturnType<typeof invitationAccepted>) {
    const removal = await auth.app.inject({
      method: 'POST',
      url: '/internal/memberships/remove',
      headers: { authorization: `Bearer ${internalToken}` },
      payload: {
        sessionToken: ownerCookie.slice('session='.length),
        workspaceId: event.workspaceId,
        userId: event.userId,
        invitationId: event.invitationId,
      },
    })
    assert.equal(removal.statusCode, 204, removal.body)
  }

  it('grants SSO once the invitation.accepted event arrives on the queue, even when delivered twice', async () => {
    const { bob, workspace, event } = await acceptedElsewhere()
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

  it('an accepted invitation revoked before its event arrives never makes a membership', async () => {
    // Accepted at the invitation service; its event still in the outbox or on the queue (a Redis
    // outage, a busy consumer) when the admin revokes it.
    const { owner, bob, event } = await acceptedElsewhere()
    await revokeAccepted(owner.cookie, event)
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(event), 'withdrawn')
    await assertNoMembership(bob.cookie, 'the revoked invitation made no member')
  })

  it('an invitation accepted into a workspace that was deleted meanwhile grants nothing and says so, once', async () => {
    // The workspace's only owner was an unproven account; its address's owner reclaims it, which
    // deletes the workspace while Bob's acceptance is still on its way.
    const squatter = await signUpUnproven(auth.app)
    const bob = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, squatter.cookie)
    const event = invitationAccepted(workspace.id, { userId: bob.user.id, email: bob.email })
    const token = await mailedToken(auth.app, squatter.user.id, 'confirm_email')
    const reclaimed = await auth.app.inject({
      method: 'POST',
      url: '/v1/auth/email/reclaim',
      payload: { token, from: 'confirmation', password: 'the owner takes the address back' },
    })
    assert.equal(reclaimed.statusCode, 200, reclaimed.body)

    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(event), 'workspace_deleted')
    assert.equal(await auth.app.workspaces.grantMembershipFromInvitation(event), 'duplicate')
    await assertNoMembership(bob.cookie, 'the deleted workspace made no member')
  })

  it('an invitation revoked while the consumer is applying its acceptance never makes a membership', async () => {
    const { owner, bob, event } = await acceptedElsewhere()
    // The test holds the event's id uncommitted, so the consumer's statement starts (and takes its
    // snapshot), then waits on that row; the revocation runs to its end meanwhile, and only then
    // does the consumer go on.
    const release = await holdInTransaction(auth.db, (tx) =>
      tx.insert(processedEvents).values({ eventId: event.id, type: 'test.blocker' }),
    )
    const applying = auth.app.workspaces.grantMembershipFromInvitation(event)
    await lockWaiters(auth.db, 1)
    await revokeAccepted(owner.cookie, event)
    await release()
    assert.equal(await applying, 'withdrawn')
    await assertNoMembership(bob.cookie, 'the revoked invitation made no member')
  })

  it('an invitation revoked while its granted membership is not yet committed removes that membership', async () => {
    const { owner, bob, event } = await acceptedElsewhere()
    // The test holds the workspace's row: the consumer claims the invitation, then waits to write
    // the membership (its key refers to that row); the revocation starts meanwhile.
    const release = await holdInTransaction(auth.db, (tx) =>
      tx.execute(sql`select 1 from auth.workspaces where id = ${event.workspaceId}::uuid for update`),
    )
    const applying = auth.app.workspaces.grantMembershipFromInvitation(event)
    await lockWaiters(auth.db, 1)
    const revoking = revokeAccepted(owner.cookie, event)
    await lockWaiters(auth.db, 2)
    await release()
    // Whichever order the two get the row in, they end without a deadlock and without the member.
    const [applied] = await Promise.all([applying, revoking])
    assert.ok(['granted', 'withdrawn'].includes(applied), applied)
    await assertNoMembership(bob.cookie, 'the revoked invitation left no member')
  })

  it('writes invitation.created, .resent and .revoked from the queue into the audit trail, once each', async () => {
    const owner = await signUp(auth.app)
    const workspace = await createWorkspace(auth.app, owner.cookie)
    const summary = {
      invitationId: randomUUID(),
      workspaceId: workspace.id,
      email: 'carol@example.test',
      by: owner.user.id,
      ip: '198.51.100.23',
      actingSession: { method: 'password' as const },
    }
    const events = [
      createEvent('invitation.created', { ...summary, role: 'admin' }),
      createEvent('invitation.resent', summary),
      createEvent('invitation.revoked', summary),
    ]
    const redis = createRedis(redisUrl, { role: 'waiting' })
    const queue = new Queue('invitation-events', { connection: redis })
    try {
      for (const event of events) {
        await queue.add(event.type, event, { jobId: event.id })
        await queue.add(event.type, event, { jobId: `${event.id}-again` })
      }
      const rows = await eventually(
        'the audit rows',
        async () => {
          const found = await auth.db
            .select()
            .from(auditLog)
            .where(and(eq(auditLog.workspaceId, workspace.id), like(auditLog.action, 'invitation.%')))
          return found.length >= 3 ? found : undefined
        },
        { timeoutMs: 10_000, intervalMs: 25 },
      )
      assert.deepEqual(rows.map((row) => row.action).sort(), [
        'invitation.created',
        'invitation.resent',
        'invitation.revoked',
      ])
      assert.ok(rows.every((row) => row.actorUserId === owner.user.id && row.ip === '198.51.100.23'))
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
      user: { id: owner.user.id, email: owner.email, createdVia: 'password', createdAt, emailConfirmed: true },
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
