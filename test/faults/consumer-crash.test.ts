// Issue 5, acceptance 3(b): the auth process, which consumes `invitation.accepted`, is killed with
// SIGKILL in the middle of a stream of accepts, then started again. Jobs it held are taken back
// once their lock lapses, jobs it never saw wait in the queue, and because the consumer is
// idempotent on the event id nothing is lost and nothing is applied twice.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { eventually } from '@gatehouse/testing'
import type { HttpResult } from '../support/http-client.ts'
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

const invitees = 200
/** Memberships granted before the kill: enough that the consumer is mid-stream, far from all. */
const grantedBeforeKill = 20

describe('the invitation consumer killed mid-stream', () => {
  const faultStack = useFaultStack()

  it('loses no accepted invitation and applies none twice once auth is back', async (t) => {
    const stack = faultStack()
    const { workspaceId, emails, accounts, invitationIds, tokens } = await invitedPeople(stack, invitees, 'Crash')
    const userIds = [...accounts.values()].map((account) => account.userId)
    const countGranted = async () => (await membershipRows(stack, workspaceId, userIds)).length

    // Kill auth as soon as it has applied some of the stream, then start it again.
    const killed = stack.program('auth')
    const crash = (async () => {
      await eventually(
        `${grantedBeforeKill} memberships granted before the kill`,
        async () => ((await countGranted()) >= grantedBeforeKill ? true : undefined),
        { intervalMs: 20, describe: () => stack.output(3000) },
      )
      const exit = await killed.stop('SIGKILL')
      assert.equal(exit.signal, 'SIGKILL')
      const grantedAtKill = await countGranted()
      await stack.restart('auth')
      return grantedAtKill
    })()

    // Each person accepts once. While auth is down the invitation service cannot tell who they
    // are (503 auth_unavailable, nothing written), so they try again, as a person would.
    let refusedWhileDown = 0
    const acceptUntilAnswered = async (email: string) => {
      const account = accounts.get(email) as Account
      const answered = await eventually<HttpResult>(
        `the accept of ${email}`,
        async () => {
          const response = await accept(stack, tokens.get(email) ?? '', account)
          if (response.status !== 503) return response
          refusedWhileDown += 1
          // Retried once auth is back, not in a loop meanwhile: accepts are limited per IP.
          await crash.catch(() => {})
          return undefined
        },
        { intervalMs: 250, describe: () => stack.output(3000) },
      )
      assert.equal(answered.status, 200, `${email}: ${JSON.stringify(answered.body)}`)
    }
    const [accepting, crashing] = await Promise.allSettled([mapInParallel(emails, 20, acceptUntilAnswered), crash])
    if (crashing.status === 'rejected') throw crashing.reason
    if (accepting.status === 'rejected') throw accepting.reason
    const grantedAtKill = crashing.value
    // Otherwise the kill fell after the stream and proved nothing.
    assert.ok(grantedAtKill < invitees, `all ${invitees} memberships were granted before the kill`)

    const memberships = await eventually(
      `all ${invitees} memberships after the restart`,
      async () => {
        const rows = await membershipRows(stack, workspaceId, userIds)
        return rows.length === invitees ? rows : undefined
      },
      { describe: async () => `${await countGranted()} memberships\n${stack.output(3000)}` },
    )
    assert.deepEqual(
      memberships.filter((membership) => membership.rows !== 1 || !membership.ssoAllowed),
      [],
    )
    const refused: string[] = []
    await mapInParallel([...accounts.values()], 10, async (account) => {
      if (!(await sessionAllowsSso(stack, account, workspaceId))) refused.push(account.email)
    })
    assert.deepEqual(refused, [])

    const events = await acceptedEvents(stack, [...invitationIds.values()])
    assert.equal(events.length, invitees, 'one invitation.accepted event per accept')
    const eventIds = events.map((event) => event.eventId)
    const processed = await processedEventCounts(stack, eventIds)
    assert.deepEqual(
      eventIds.filter((eventId) => processed.get(eventId) !== 1),
      [],
    )

    // Applied at most once across both processes. A grant the killed process committed just
    // before dying may be missing from its log, never doubled by the restarted one.
    const before = appliedOutcomes(killed)
    const afterRestart = appliedOutcomes(stack.program('auth'))
    assert.deepEqual([...before.other, ...afterRestart.other], [])
    const grants = new Map<string, number>()
    for (const eventId of [...before.granted, ...afterRestart.granted]) {
      grants.set(eventId, (grants.get(eventId) ?? 0) + 1)
    }
    assert.deepEqual(
      [...grants].filter(([, count]) => count > 1),
      [],
    )
    // The log line counted above exists in both processes: the check is not vacuous.
    assert.ok(before.granted.length > 0 && afterRestart.granted.length > 0)
    t.diagnostic(
      `killed after ${grantedAtKill} of ${invitees} grants; ${refusedWhileDown} accepts refused while auth was down; ` +
        `${afterRestart.granted.length} granted and ${afterRestart.duplicate.length} found already applied after the restart`,
    )
  })
})
