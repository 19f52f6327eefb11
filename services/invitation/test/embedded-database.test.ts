import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eq } from 'drizzle-orm'
import { emails, outbox } from '../src/db/schema.ts'
import {
  type AuthServer,
  accept,
  type InvitationTestApp,
  inviteAndReceive,
  ownerWithWorkspace,
  type SmtpSink,
  signUp,
  startAuthServer,
  startInvitationApp,
  startSmtpSink,
} from './harness.ts'

// The accept statement is hand-written SQL: it must run on the embedded database too, which
// `pnpm dev` and a first-time user's walkthrough use.
describe('invitations on the embedded database (PGlite)', () => {
  let auth: AuthServer
  let sink: SmtpSink
  let invitation: InvitationTestApp
  before(async () => {
    ;[auth, sink] = await Promise.all([startAuthServer(), startSmtpSink()])
    invitation = await startInvitationApp({ authUrl: auth.url, smtpUrl: sink.url, embedded: true })
  })
  after(async () => {
    await invitation.close()
    await auth.close()
    await sink.close()
  })

  it('accepts once, blanks a message still on its way, and writes the invitation.accepted event', async () => {
    const { owner, workspace } = await ownerWithWorkspace(auth)
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
    const invitee = await signUp(auth.app, email)

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
    const events = (await invitation.db.select().from(outbox)).map((row) => row.event)
    const announced = events.filter((event) => event.type === 'invitation.accepted')
    assert.deepEqual(
      announced.map((event) => 'invitationId' in event && [event.invitationId, event.userId]),
      [[created.id, invitee.user.id]],
    )
  })
})
