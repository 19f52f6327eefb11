// Issue 5, acceptance 3(a): Redis goes away while people accept their invitations. Accepting is a
// fact in Postgres, so it still succeeds; its event waits in the outbox and reaches auth once
// Redis is back (an empty Redis: nothing was persisted), granting each membership exactly once.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { eventually } from '@gatehouse/testing'
import { mapInParallel } from '../support/parallel.ts'
import {
  type Account,
  accept,
  acceptedEvents,
  appliedOutcomes,
  invitedPeople,
  membershipRows,
  processedEventCounts,
  sessionAllowsSso,
  useFaultStack,
} from './fault-stack.ts'

const invitees = 100

describe('a Redis outage while invitations are accepted', () => {
  const faultStack = useFaultStack()

  it('answers every accept, then grants all 100 memberships exactly once when Redis returns', async (t) => {
    const stack = faultStack()
    const { workspaceId, emails, accounts, invitationIds, tokens } = await invitedPeople(stack, invitees, 'Outage')

    await stack.redisProcess.stop()

    await mapInParallel(emails, 10, async (email) => {
      const accepted = await accept(stack, tokens.get(email) ?? '', accounts.get(email) as Account)
      assert.equal(
        accepted.status,
        200,
        `${email}: ${JSON.stringify(accepted.body)}\n${stack.program('invitation').output().slice(-4000)}`,
      )
      assert.equal(accepted.body.invitation.status, 'accepted')
    })

    // Every accept committed its event, and none could leave while Redis was down.
    const ids = [...invitationIds.values()]
    const waiting = await acceptedEvents(stack, ids)
    assert.equal(waiting.length, invitees)
    assert.deepEqual(
      waiting.filter((event) => event.published),
      [],
    )
    const userIds = [...accounts.values()].map((account) => account.userId)
    assert.deepEqual(await membershipRows(stack, workspaceId, userIds), [])

    await stack.redisProcess.start()

    const memberships = await eventually(
      `all ${invitees} memberships after Redis came back`,
      async () => {
        const rows = await membershipRows(stack, workspaceId, userIds)
        return rows.length === invitees ? rows : undefined
      },
      {
        describe: async () =>
          `${(await membershipRows(stack, workspaceId, userIds)).length} memberships\n${stack.output(3000)}`,
      },
    )
    const invitationIdOf = new Map([...accounts].map(([email, account]) => [account.userId, invitationIds.get(email)]))
    for (const membership of memberships) {
      assert.deepEqual(membership, {
        userId: membership.userId,
        rows: 1,
        ssoAllowed: true,
        invitationId: invitationIdOf.get(membership.userId),
      })
    }

    // What each invitee sees: the workspace, with SSO allowed.
    const refused: string[] = []
    await mapInParallel([...accounts.values()], 10, async (account) => {
      if (!(await sessionAllowsSso(stack, account, workspaceId))) refused.push(account.email)
    })
    assert.deepEqual(refused, [])

    // Exactly once: each event recorded once, and applied (granted) once by auth.
    const events = await acceptedEvents(stack, ids)
    assert.equal(events.length, invitees)
    const eventIds = events.map((event) => event.eventId)
    const processed = await processedEventCounts(stack, eventIds)
    assert.deepEqual(
      eventIds.filter((eventId) => processed.get(eventId) !== 1),
      [],
    )
    const { granted, other } = appliedOutcomes(stack.program('auth'))
    assert.deepEqual(other, [])
    assert.deepEqual([...granted].filter((eventId) => eventIds.includes(eventId)).sort(), [...eventIds].sort())
    t.diagnostic(`${invitees} accepts during the outage; ${granted.length} grants after Redis returned`)
  })
})
