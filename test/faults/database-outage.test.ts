// Postgres goes away for a while (a restart, a failover) while background work is waiting, and
// comes back. Every process that runs workers — ROLE=all, the default, and ROLE=worker — must
// ride it out: stay up, say so once in a line with a code (not a stack trace a loop repeats),
// answer /readyz with 503 while the database is gone, and finish the held-up work once it is back,
// each event applied once and each email sent once.
//
// The work is held up deterministically: Redis is cut first (through a proxy, its data kept), so
// the accepts and the new invitations of that moment wait in the outboxes while every Redis loop
// meets that outage; then Postgres is cut and Redis restored, so every loop that would move the
// work meets the database outage. Both outages are held to the same rules.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { eventually, uniqueEmail } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import { mapInParallel } from '../support/parallel.ts'
import type { RunningProcess } from '../support/processes.ts'
import { isInvitationEmail } from '../support/smtp-sink.ts'
import {
  type Account,
  accept,
  acceptedEvents,
  appliedOutcomes,
  inviteAll,
  invitedPeople,
  membershipRows,
  processedEventCounts,
  useFaultStack,
} from './fault-stack.ts'

const invitees = 12
const invitedDuringOutage = 8

for (const role of ['all', 'worker'] as const) {
  describe(`a Postgres outage with ROLE=${role}`, () => {
    const faultStack = useFaultStack({ role, throughProxies: true })

    it('keeps every process up and unready, then applies each held-up event and sends each email once', async (t) => {
      const stack = faultStack()
      const proxies = stack.proxies
      const processes = stack.programs()
      const { owner, workspaceId, accounts, invitationIds, tokens } = await invitedPeople(stack, invitees, 'Blip')

      const logsBefore = new Map(processes.map((running) => [running, running.output().length]))
      const outageLogs = (running: RunningProcess) => running.output().slice(logsBefore.get(running))
      const relays = processes.filter((running) => role === 'all' || stack.workers.includes(running))
      const everyProcessAnswers = (what: string, expected: { status: number; failing?: string }) =>
        eventually(
          `every process answers /readyz with ${what}`,
          async () => {
            const answers = await Promise.all(processes.map((running) => readiness(running)))
            return answers.every((answer) => answer.status === expected.status && answer.failing === expected.failing)
              ? answers
              : undefined
          },
          { describe: () => stack.output(3000) },
        )
      const everyRelayReports = (code: string) =>
        eventually(
          `each relay reports ${code}`,
          async () =>
            relays.every((running) =>
              outageLogs(running)
                .split('\n')
                .some((line) => line.includes('"loop":"outbox relay"') && line.includes(`"code":"${code}"`)),
            ) || undefined,
          { describe: () => stack.output(3000) },
        )

      // Work that cannot leave yet: with Redis cut, accepting and inviting still commit to Postgres.
      await proxies.redis.cut()
      await everyProcessAnswers('503 naming Redis', { status: 503, failing: 'redis' })
      await mapInParallel([...accounts.entries()], 6, async ([email, account]) => {
        const accepted = await accept(stack, tokens.get(email) ?? '', account as Account)
        assert.equal(accepted.status, 200, `${email}: ${JSON.stringify(accepted.body)}`)
      })
      const lateEmails = Array.from({ length: invitedDuringOutage }, (_, index) => uniqueEmail(`late-${index}`))
      await inviteAll(stack, owner, workspaceId, lateEmails)
      const ids = [...invitationIds.values()]
      assert.deepEqual(
        (await acceptedEvents(stack, ids)).filter((event) => event.published),
        [],
      )

      await everyRelayReports('redis_unavailable')

      // Postgres goes, Redis comes back: every loop that would move the work now meets the outage.
      await proxies.postgres.cut()
      await proxies.redis.restore()
      await everyProcessAnswers('503 naming the database', { status: 503, failing: 'database' })
      // The relays (in the worker processes) have met the outage and said so with its code.
      await everyRelayReports('database_unavailable')
      for (const running of processes) assert.ok(running.running(), `${running.name} exited:\n${running.output()}`)

      await proxies.postgres.restore()

      await everyProcessAnswers('200 again', { status: 200 })

      // The accepts made before the outage: each membership granted once.
      const userIds = [...accounts.values()].map((account) => account.userId)
      const memberships = await eventually(
        `all ${invitees} memberships after the outage`,
        async () => {
          const rows = await membershipRows(stack, workspaceId, userIds)
          return rows.length === invitees ? rows : undefined
        },
        { describe: () => stack.output(3000) },
      )
      assert.deepEqual(
        memberships.filter((membership) => membership.rows !== 1 || !membership.ssoAllowed),
        [],
      )
      const eventIds = (await acceptedEvents(stack, ids)).map((event) => event.eventId)
      const processed = await processedEventCounts(stack, eventIds)
      assert.deepEqual(
        eventIds.filter((eventId) => processed.get(eventId) !== 1),
        [],
      )
      // What auth logged applying them (a line may follow its commit by a moment). An event whose
      // commit was answered by a connection the cut had closed is applied again, and found done.
      const consumers = processes.filter((running) => running.name === 'auth')
      const outcomes = await eventually(
        'auth logged applying each event',
        async () => {
          const logged = consumers.map((running) => appliedOutcomes(running))
          const granted = logged.flatMap((outcome) => outcome.granted)
          const seen = new Set([...granted, ...logged.flatMap((outcome) => outcome.duplicate)])
          return eventIds.every((eventId) => seen.has(eventId)) ? { granted, logged } : undefined
        },
        { describe: () => stack.output(3000) },
      )
      assert.deepEqual(
        outcomes.logged.flatMap((outcome) => outcome.other),
        [],
      )
      const grantedOfOurs = outcomes.granted.filter((eventId) => eventIds.includes(eventId))
      assert.equal(new Set(grantedOfOurs).size, grantedOfOurs.length, 'an event was granted twice')

      // The invitations made before the outage: each email sent, and each address mailed once.
      const invitationEmailsTo = () => {
        const counts = new Map<string, number>()
        for (const email of stack.sink.received.filter(isInvitationEmail)) {
          for (const recipient of email.envelopeTo) counts.set(recipient, (counts.get(recipient) ?? 0) + 1)
        }
        return counts
      }
      await eventually(
        `invitation emails to the ${invitedDuringOutage} people invited before the outage`,
        async () => lateEmails.every((email) => invitationEmailsTo().has(email)) || undefined,
        { describe: () => `${stack.sink.received.length} emails\n${stack.output(3000)}` },
      )
      const mailed = invitationEmailsTo()
      assert.deepEqual(
        [...accounts.keys(), ...lateEmails].filter((email) => mailed.get(email) !== 1),
        [],
      )

      // Said once per loop, with a code: no stack traces, nothing the processes could not handle.
      for (const running of processes) {
        assert.ok(running.running(), `${running.name} exited:\n${running.output()}`)
        const lines = outageLogs(running).split('\n')
        assert.deepEqual(
          lines.filter((line) => /"stack"|^\s+at |uncaught|unhandled/i.test(line)),
          [],
          `${running.name} logged a stack trace or an uncaught error`,
        )
        const problems = lines.filter((line) => /"level":(40|50|60)/.test(line))
        const untyped = problems.filter((line) => !/"code":"/.test(line))
        assert.deepEqual(untyped, [], `${running.name} logged problems without a code`)
        const byMessage = new Map<string, number>()
        for (const line of problems) {
          const message = (JSON.parse(line) as { msg: string }).msg
          byMessage.set(message, (byMessage.get(message) ?? 0) + 1)
        }
        t.diagnostic(`${running.name} through the outages: ${JSON.stringify(Object.fromEntries(byMessage))}`)
      }
    })
  })
}

async function readiness(running: RunningProcess): Promise<{ status: number; failing?: string }> {
  const answer = await request(`${running.url}/readyz`, {})
  return { status: answer.status, failing: answer.body?.failing?.join(',') }
}
