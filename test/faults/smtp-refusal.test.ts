// Issue 5, acceptance 3(c): the mail server refuses for a while (451, try again later). The
// invitation email is retried with backoff and delivered once the server takes mail again —
// exactly once, with a link that works.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { eventually, uniqueEmail } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import { invitationTokenOf, isInvitationEmail } from '../support/smtp-sink.ts'
import { createWorkspace, inviteAll, signUp, useFaultStack } from './fault-stack.ts'

/** Refused attempts before the server recovers: the first send and at least one retry. */
const refusalsBeforeRecovery = 2

describe('an SMTP server refusing mail for a while', () => {
  const faultStack = useFaultStack()

  it('delivers the invitation email once the server recovers, exactly once', async (t) => {
    const stack = faultStack()
    const owner = await signUp(stack, uniqueEmail('owner'))
    const workspaceId = await createWorkspace(stack, owner, 'Mailless GmbH')
    const erin = uniqueEmail('erin')
    const refusalsOfErin = () => stack.sink.refused.filter((recipients) => recipients.includes(erin)).length
    const emailsToErin = () => stack.sink.received.filter((email) => email.envelopeTo.includes(erin))

    stack.sink.setRefusing(true)
    const invitationId = (await inviteAll(stack, owner, workspaceId, [erin])).get(erin)
    await eventually(
      `${refusalsBeforeRecovery} refused attempts to send erin's invitation`,
      async () => (refusalsOfErin() >= refusalsBeforeRecovery ? true : undefined),
      { describe: () => stack.output(3000) },
    )
    assert.deepEqual(emailsToErin(), [])
    stack.sink.setRefusing(false)

    const delivered = await stack.sink.waitFor(
      (email) => email.envelopeTo.includes(erin) && isInvitationEmail(email),
      60_000,
    )
    // Marked sent: from here on a redelivered job skips the message, so what arrived is all that will.
    await eventually(
      "erin's email marked sent",
      async () => {
        const [row] = await stack.database.sql<{ sent: boolean }[]>`
          select sent_at is not null as sent from invitation.emails where invitation_id = ${invitationId ?? ''}`
        return row?.sent ? true : undefined
      },
      { describe: () => stack.output(3000) },
    )
    assert.equal(emailsToErin().length, 1)
    assert.match(delivered.mail.subject ?? '', /Mailless GmbH/)

    const looked = await request(`${stack.program('invitation').url}/v1/invitations/lookup`, {
      json: { token: invitationTokenOf(delivered) },
    })
    assert.equal(looked.status, 200, JSON.stringify(looked.body))
    assert.deepEqual({ email: looked.body.email, status: looked.body.status }, { email: erin, status: 'pending' })
    t.diagnostic(`${refusalsOfErin()} refused attempts, then 1 delivery`)
  })
})
