import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eq } from 'drizzle-orm'
import { emails, outbox } from '../src/db/schema.ts'
import {
  type AuthStandIn,
  accept,
  type InvitationTestApp,
  inviteAndReceive,
  ownerWithWorkspace,
  type SmtpSink,
  startSetup,
} from './harness.ts'

// Accepting is one hand-written statement: it runs on Postgres and on the embedded database, which
// `pnpm dev` and a first-time user's walkthrough use.
for (const engine of ['Postgres', 'embedded PGlite'] as const) {
  describe(`accepting an invitation on ${engine}`, () => {
    let auth: AuthStandIn
    let sink: SmtpSink
    let invitation: InvitationTestApp
    let close: () => Promise<void>
    before(async () => {
      ;({ auth, sink, invitation, close } = await startSetup({ embedded: engine !== 'Postgres' }))
    })
    after(() => close())

    it('accepts once, blanks a message still on its way (it holds the link), and writes the invitation.accepted event', async () => {
      const { owner, workspace } = ownerWithWorkspace(auth)
      const {
        email,
        token,
        invitation: created,
      } = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
      const [inFlight] = await invitation.db
        .insert(emails)
        .values({
          invitationId: created.id,
          queue: 'undelivered',
          recipient: email,
          subject: 's',
          textBody: token,
          htmlBody: token,
        })
        .returning()
      const invitee = auth.signUp(email)

      const accepted = await accept(invitation, token, invitee.cookie)
      assert.equal(accepted.statusCode, 200, accepted.body)
      assert.equal(accepted.json().invitation.status, 'accepted')
      assert.equal((await accept(invitation, token, invitee.cookie)).json().error, 'already_accepted')

      const [discarded] = await invitation.db
        .select()
        .from(emails)
        .where(eq(emails.id, inFlight?.id ?? ''))
      assert.equal(discarded?.textBody, '')
      assert.ok(discarded?.discardedAt)
      // The shared database's outbox holds other tests' events too: this invitation's, exactly once.
      const announced = (await invitation.db.select().from(outbox))
        .map((row) => row.event)
        .filter((event) => event.type === 'invitation.accepted' && event.invitationId === created.id)
      assert.deepEqual(
        announced.map((event) => event.type === 'invitation.accepted' && event.userId),
        [invitee.user.id],
      )
    })
  })
}
