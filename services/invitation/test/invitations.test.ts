import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type AuthEvent, createEvent, type InvitationCreated } from '@gatehouse/events'
import { eventually, uniqueEmail } from '@gatehouse/testing'
import { eq } from 'drizzle-orm'
import { holdInTransaction, lockWaiters } from '../../../test/support/transactions.ts'
import { emails, invitations, outbox } from '../src/db/schema.ts'
import {
  type AuthStandIn,
  accept,
  grantAccepted,
  type InvitationTestApp,
  invitationTokenOf,
  invite,
  inviteAndReceive,
  isInvitationEmail,
  lookup,
  ownerWithWorkspace,
  personInTwoWorkspaces,
  publicUrl,
  publishAuthEvents,
  type SignedInPerson,
  type SmtpSink,
  startSetup,
} from './harness.ts'

const day = 24 * 60 * 60 * 1000

describe('invitations', () => {
  let auth: AuthStandIn
  let sink: SmtpSink
  let invitation: InvitationTestApp
  let close: () => Promise<void>
  before(async () => {
    ;({ auth, sink, invitation, close } = await startSetup())
  })
  after(() => close())

  it('an owner invites: 201, and an email with the workspace, the inviter, the link and the expiry arrives', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth, 'Acme <Rockets>')
    const email = uniqueEmail('Bob')
    const response = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email, role: 'admin' })
    assert.equal(response.statusCode, 201, response.body)
    const created = response.json().invitation
    assert.equal(created.email, email.toLowerCase(), 'stored normalized')
    assert.equal(created.role, 'admin')
    assert.equal(created.status, 'pending')
    assert.equal(created.workspaceId, workspace.id)
    assert.equal(created.invitedBy, owner.user.id)
    assert.equal(created.acceptedAt, undefined)
    assert.equal(new Date(created.expiresAt).getTime() - new Date(created.createdAt).getTime(), 7 * day)

    const received = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(email.toLowerCase()) && isInvitationEmail(mail),
    )
    const { mail } = received
    assert.deepEqual(mail.from?.value, [{ address: 'no-reply@localhost', name: 'Gatehouse' }])
    assert.match(mail.subject ?? '', new RegExp(`${owner.email} invited you to Acme <Rockets>`))
    const token = invitationTokenOf(received)
    assert.match(token, /^[\w-]{43}$/, '256 bits, base64url')
    const link = `${publicUrl}/invite#token=${token}`
    for (const part of [mail.text ?? '', String(mail.html)]) {
      assert.ok(part.includes(owner.email), 'names the inviter')
      assert.ok(part.includes(created.expiresAt.slice(0, 10)), 'gives the expiry')
    }
    assert.ok(mail.text?.includes('Acme <Rockets>'))
    // What accepting means: that workspace's IdP vouches for the person there, and nowhere else.
    assert.ok(
      mail.text?.includes("Acme <Rockets>'s identity provider will be able to sign you in to Acme <Rockets>."),
      mail.text,
    )
    assert.ok(mail.text?.includes(link))
    assert.ok(String(mail.html).includes('Acme &#60;Rockets&#62;'), 'the workspace name is escaped in HTML')
    assert.ok(String(mail.html).includes(`href="${link}"`))

    const found = await lookup(invitation, token)
    assert.equal(found.statusCode, 200)
    assert.deepEqual(found.json(), {
      workspaceName: 'Acme <Rockets>',
      inviterEmail: owner.email,
      email: email.toLowerCase(),
      role: 'admin',
      status: 'pending',
      expiresAt: created.expiresAt,
    })

    // Once sent, the message (the only place the raw token was) is blanked; the event is in the outbox.
    // (The sender marks it sent just after the SMTP server took it, so the mail may arrive first.)
    const stored = await eventually('the message marked sent', async () => {
      const [row] = await invitation.db.select().from(emails).where(eq(emails.invitationId, created.id))
      return row?.sentAt ? row : undefined
    })
    assert.equal(stored.textBody, '')
    assert.equal(stored.htmlBody, '')
    const events = await invitation.db.select().from(outbox)
    const createdEvent = events
      .map((row) => row.event)
      .find(
        (event): event is InvitationCreated => event.type === 'invitation.created' && event.invitationId === created.id,
      )
    assert.deepEqual(
      createdEvent && {
        workspaceId: createdEvent.workspaceId,
        email: createdEvent.email,
        actingSession: createdEvent.actingSession,
      },
      { workspaceId: workspace.id, email: email.toLowerCase(), actingSession: { method: 'password' } },
    )
  })

  it("refuses a session made by one workspace's IdP everywhere but there: other workspaces' invitations and accepting (403 reauthentication_required)", async () => {
    const { acme, person, beta, ssoCookie } = personInTwoWorkspaces(auth)
    // Beta is the person's own workspace, and an invitation to a third one waits for their email.
    const elsewhere = ownerWithWorkspace(auth)
    const pending = await inviteAndReceive(
      { invitation, sink },
      elsewhere.owner.cookie,
      elsewhere.workspace.id,
      person.email,
    )

    const attempts = {
      invite: await invite(invitation, ssoCookie, { workspaceId: beta.id, email: uniqueEmail() }),
      list: await invitation.app.inject({
        method: 'GET',
        url: `/v1/invitations?workspaceId=${beta.id}`,
        headers: { cookie: ssoCookie },
      }),
      accept: await accept(invitation, pending.token, ssoCookie),
    }
    for (const [name, refused] of Object.entries(attempts)) {
      assert.equal(refused.statusCode, 403, `${name}: ${refused.body}`)
      assert.equal(refused.json().error, 'reauthentication_required', name)
      assert.equal(refused.json().signIn.password, '/login', name)
    }
    // Inside Acme the session acts as the person's role there allows: a member does not invite.
    const inAcme = await invite(invitation, ssoCookie, { workspaceId: acme.workspace.id, email: uniqueEmail() })
    assert.equal(inAcme.json().error, 'forbidden')
    // The person's password sign-in accepts.
    assert.equal((await accept(invitation, pending.token, person.cookie)).statusCode, 200)
  })

  it('needs a session (401) of the workspace owner or an admin (403)', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const stranger = auth.signUp()
    const body = { workspaceId: workspace.id, email: uniqueEmail(), role: 'member' as const }

    const anonymous = await invitation.app.inject({ method: 'POST', url: '/v1/invitations', payload: body })
    assert.equal(anonymous.statusCode, 401)
    assert.equal(anonymous.json().error, 'unauthenticated')
    const forged = await invite(invitation, 'session=not-a-real-session', body)
    assert.equal(forged.statusCode, 401)

    for (const attempt of [
      invite(invitation, stranger.cookie, body),
      invite(invitation, owner.cookie, { ...body, workspaceId: randomUUID() }),
      invitation.app.inject({
        method: 'GET',
        url: `/v1/invitations?workspaceId=${workspace.id}`,
        headers: { cookie: stranger.cookie },
      }),
    ]) {
      const refused = await attempt
      assert.equal(refused.statusCode, 403, refused.body)
      assert.equal(refused.json().error, 'forbidden')
    }

    // A member who joined by invitation may not invite; an admin who joined by invitation may.
    const member = await joinByInvitation(owner.cookie, workspace.id, 'member')
    const byMember = await invite(invitation, member.cookie, { workspaceId: workspace.id, email: uniqueEmail() })
    assert.equal(byMember.statusCode, 403)
    assert.equal(byMember.json().error, 'forbidden')
    const admin = await joinByInvitation(owner.cookie, workspace.id, 'admin')
    const byAdmin = await invite(invitation, admin.cookie, { workspaceId: workspace.id, email: uniqueEmail() })
    assert.equal(byAdmin.statusCode, 201, byAdmin.body)
  })

  it('refuses a malformed email (400), a member (409 already_member) and a second pending invitation (409 already_invited)', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const malformed = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email: 'not an email' })
    assert.equal(malformed.statusCode, 400)
    assert.equal(malformed.json().error, 'invalid_email')

    const self = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email: owner.email.toUpperCase() })
    assert.equal(self.statusCode, 409)
    assert.equal(self.json().error, 'already_member')

    const email = uniqueEmail()
    assert.equal((await invite(invitation, owner.cookie, { workspaceId: workspace.id, email })).statusCode, 201)
    const twice = await invite(invitation, owner.cookie, {
      workspaceId: workspace.id,
      email: ` ${email.toUpperCase()} `,
    })
    assert.equal(twice.statusCode, 409)
    assert.equal(twice.json().error, 'already_invited')

    // The same email into another workspace is another invitation.
    const other = ownerWithWorkspace(auth)
    assert.equal(
      (await invite(invitation, other.owner.cookie, { workspaceId: other.workspace.id, email })).statusCode,
      201,
    )
  })

  // Auth refuses it alike (the shared Uuid schema; test/e2e compares the two services' answers).
  it('refuses an upper-case workspace id (400), as auth does', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const upper = workspace.id.toUpperCase()
    const atInvitation = await invitation.app.inject({
      method: 'GET',
      url: `/v1/invitations?workspaceId=${upper}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(atInvitation.statusCode, 400, atInvitation.body)
  })

  it('lists the workspace invitations with their current status, newest first, never to be cached', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const first = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const second = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    await revoke(owner.cookie, first.invitation.id)
    const listed = await invitation.app.inject({
      method: 'GET',
      url: `/v1/invitations?workspaceId=${workspace.id}`,
      headers: { cookie: owner.cookie },
    })
    assert.equal(listed.statusCode, 200)
    assert.equal(listed.headers['cache-control'], 'no-store')
    assert.deepEqual(
      listed.json().invitations.map((row: { id: string; status: string }) => [row.id, row.status]),
      [
        [second.invitation.id, 'pending'],
        [first.invitation.id, 'revoked'],
      ],
    )
  })

  it('accepting needs a session (401), a known token (404) and the invited email (403), once (409)', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const {
      email,
      token,
      invitation: created,
    } = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)

    const anonymous = await accept(invitation, token)
    assert.equal(anonymous.statusCode, 401)
    assert.equal(anonymous.json().error, 'unauthenticated')

    const someoneElse = auth.signUp()
    const mismatch = await accept(invitation, token, someoneElse.cookie)
    assert.equal(mismatch.statusCode, 403)
    assert.equal(mismatch.json().error, 'email_mismatch')

    const invitee = auth.signUp(email.toUpperCase())
    const unknown = await accept(invitation, 'x'.repeat(43), invitee.cookie)
    assert.equal(unknown.statusCode, 404)
    assert.equal(unknown.json().error, 'invalid_token')

    const accepted = await accept(invitation, token, invitee.cookie)
    assert.equal(accepted.statusCode, 200, accepted.body)
    assert.equal(accepted.json().invitation.id, created.id)
    assert.equal(accepted.json().invitation.status, 'accepted')
    assert.ok(accepted.json().invitation.acceptedAt)

    const again = await accept(invitation, token, invitee.cookie)
    assert.equal(again.statusCode, 409)
    assert.equal(again.json().error, 'already_accepted')
    assert.equal((await lookup(invitation, token)).json().status, 'accepted')

    // Auth grants the membership, with SSO allowed, from the invitation.accepted event.
    await grantAccepted({ auth, invitation }, created.id)
    assert.deepEqual(auth.membershipsOf(invitee.user.id), [
      { workspaceId: workspace.id, role: 'member', ssoAllowed: true },
    ])

    // A member now: inviting them again is already_member.
    const reinvite = await invite(invitation, owner.cookie, { workspaceId: workspace.id, email })
    assert.equal(reinvite.statusCode, 409)
    assert.equal(reinvite.json().error, 'already_member')
  })

  it('revoking an accepted invitation removes that membership at once: the invitation shows revoked, the person is told, and can be invited again', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const admin = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id, undefined, 'admin')
    const adminAccount = auth.signUp(admin.email)
    assert.equal((await accept(invitation, admin.token, adminAccount.cookie)).statusCode, 200)
    const member = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const memberAccount = auth.signUp(member.email)
    assert.equal((await accept(invitation, member.token, memberAccount.cookie)).statusCode, 200)
    await grantAccepted({ auth, invitation }, admin.invitation.id)
    await grantAccepted({ auth, invitation }, member.invitation.id)

    // Auth's rules decide: an admin may not remove another admin.
    const adminsPeer = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id, undefined, 'admin')
    const peerAccount = auth.signUp(adminsPeer.email)
    assert.equal((await accept(invitation, adminsPeer.token, peerAccount.cookie)).statusCode, 200)
    await grantAccepted({ auth, invitation }, adminsPeer.invitation.id)
    const refused = await revokeResponse(peerAccount.cookie, admin.invitation.id)
    assert.equal(refused.statusCode, 403)
    assert.equal(refused.json().error, 'role_not_manageable')

    assert.equal(await revoke(adminAccount.cookie, member.invitation.id), 204)
    // The 204 comes after auth removed the membership: no waiting.
    assert.deepEqual(auth.membershipsOf(memberAccount.user.id), [])
    const listed = await invitation.app.inject({
      url: `/v1/invitations?workspaceId=${workspace.id}`,
      headers: { cookie: owner.cookie },
    })
    const shown = listed.json().invitations.find((row: { id: string }) => row.id === member.invitation.id)
    assert.equal(shown.status, 'revoked')
    assert.ok(shown.acceptedAt && shown.revokedAt)
    assert.equal(await revoke(adminAccount.cookie, member.invitation.id), 204, 'revoking twice changes nothing')

    const told = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(member.email) && /removed from/.test(String(mail.mail.subject)),
      15_000,
    )
    assert.ok(told.mail.text?.includes('invite you again'))
    assert.match(String(told.mail.html), /<strong>/)

    const again = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id, member.email)
    assert.equal((await accept(invitation, again.token, memberAccount.cookie)).statusCode, 200)
    await grantAccepted({ auth, invitation }, again.invitation.id)
    assert.equal(auth.membershipsOf(memberAccount.user.id).length, 1)
  })

  it('an account whose address is not proven sees no invitations on its home page and cannot accept one from there', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const invited = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const account = auth.signUp(invited.email, { emailConfirmed: false })
    const mine = await invitation.app.inject({ url: '/v1/invitations/mine', headers: { cookie: account.cookie } })
    assert.equal(mine.statusCode, 200)
    assert.deepEqual(mine.json(), { addressProven: false, invitations: [] })
    const acceptById = (cookie: string) =>
      invitation.app.inject({
        method: 'POST',
        url: `/v1/invitations/${invited.invitation.id}/accept`,
        headers: { cookie },
      })
    const refused = await acceptById(account.cookie)
    assert.equal(refused.statusCode, 403)
    assert.equal(refused.json().error, 'email_unconfirmed')
    // Nor by the link: the account was not made from it, and anyone could have made it.
    const byLink = await accept(invitation, invited.token, account.cookie)
    assert.equal(byLink.json().error, 'email_unconfirmed')
    // Someone else's invitation is as unknown as a wrong link.
    const stranger = auth.signUp()
    assert.equal((await acceptById(stranger.cookie)).json().error, 'invalid_token')
    assert.equal((await lookup(invitation, invited.token)).json().status, 'pending')
  })

  it('a person whose address is proven sees the invitations waiting for it on their home page and accepts one from there', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const other = ownerWithWorkspace(auth)
    const account = auth.signUp()
    const invited = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id, account.email, 'admin')
    await inviteAndReceive({ invitation, sink }, other.owner.cookie, other.workspace.id, account.email)

    const mine = await invitation.app.inject({ url: '/v1/invitations/mine', headers: { cookie: account.cookie } })
    assert.equal(mine.statusCode, 200)
    assert.equal(mine.json().addressProven, true)
    assert.deepEqual(
      mine
        .json()
        .invitations.map((row: { workspaceId: string; role: string; inviterEmail: string }) => [
          row.workspaceId,
          row.role,
        ]),
      [
        [other.workspace.id, 'member'],
        [workspace.id, 'admin'],
      ],
    )

    const accepted = await invitation.app.inject({
      method: 'POST',
      url: `/v1/invitations/${invited.invitation.id}/accept`,
      headers: { cookie: account.cookie },
    })
    assert.equal(accepted.statusCode, 200, accepted.body)
    assert.equal(accepted.json().invitation.status, 'accepted')
    await grantAccepted({ auth, invitation }, invited.invitation.id)
    assert.deepEqual(auth.membershipsOf(account.user.id), [
      { workspaceId: workspace.id, role: 'admin', ssoAllowed: true },
    ])
    const left = await invitation.app.inject({ url: '/v1/invitations/mine', headers: { cookie: account.cookie } })
    assert.deepEqual(
      left.json().invitations.map((row: { workspaceId: string }) => row.workspaceId),
      [other.workspace.id],
    )
    // The link it was mailed with is spent too.
    assert.equal((await accept(invitation, invited.token, account.cookie)).json().error, 'already_accepted')
  })

  it('a member removed in auth shows as revoked in the workspace’s invitations', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const member = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const account = auth.signUp(member.email)
    assert.equal((await accept(invitation, member.token, account.cookie)).statusCode, 200)
    await grantAccepted({ auth, invitation }, member.invitation.id)
    // The person leaves (auth announces a removal by the person themselves).
    await publishAuthEvents([
      createEvent('membership.removed', {
        workspaceId: workspace.id,
        workspaceName: workspace.name,
        userId: account.user.id,
        email: account.email,
        role: 'member',
        by: account.user.id,
        actingSession: { method: 'password' },
      }),
    ])
    await eventually('the invitation to show the removal', async () => {
      const listed = await invitation.app.inject({
        url: `/v1/invitations?workspaceId=${workspace.id}`,
        headers: { cookie: owner.cookie },
      })
      const shown = listed.json().invitations.find((row: { id: string }) => row.id === member.invitation.id)
      return shown.status === 'revoked' ? shown : undefined
    })
    // The notice would have been written in the transaction that showed the removal.
    const written = await invitation.db.select().from(emails).where(eq(emails.recipient, member.email))
    assert.deepEqual(
      written.filter((row) => /removed from/.test(row.subject)),
      [],
      'leaving mails nobody',
    )
  })

  /** What auth announces when an unproven admin's address is reclaimed by its owner. */
  const reclaimed = (workspace: { id: string; name: string }, account: { user: { id: string }; email: string }) =>
    createEvent('membership.removed', {
      workspaceId: workspace.id,
      workspaceName: workspace.name,
      userId: account.user.id,
      email: account.email,
      role: 'admin',
      by: account.user.id,
      actingSession: { method: 'password' },
      reason: 'account_reclaimed',
    })

  /**
   * Sends an invitation of `email` while `removals` are applied: the test's own uncommitted
   * invitation of the same address holds it in its insert, after the sender was checked, until
   * the removals' revocations either wait for it or ran without seeing it (`applied`).
   */
  async function inviteDuringRemovals(
    sender: SignedInPerson,
    workspace: { id: string; name: string },
    email: string,
    removals: AuthEvent[],
    applied: () => Promise<unknown>,
  ) {
    const release = await holdInTransaction(invitation.db, (tx) =>
      tx.insert(invitations).values({
        workspaceId: workspace.id,
        workspaceName: workspace.name,
        email,
        role: 'member',
        tokenHash: randomUUID(),
        invitedBy: sender.user.id,
        inviterEmail: sender.email,
        expiresAt: new Date(Date.now() + day),
      }),
    )
    const sending = invite(invitation, sender.cookie, { workspaceId: workspace.id, email })
    await lockWaiters(invitation.db, 1)
    await publishAuthEvents(removals)
    await Promise.race([lockWaiters(invitation.db, 2), applied()])
    await release()
    return sending
  }

  /** A workspace with an unproven admin who has one invitation pending. */
  async function squatterInviting() {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const squatter = auth.signUp(undefined, { emailConfirmed: false })
    auth.addMember(workspace.id, squatter, 'admin')
    const left = await inviteAndReceive({ invitation, sink }, squatter.cookie, workspace.id)
    const statusesBy = async (inviterId: string) => {
      const listed = await invitation.app.inject({
        url: `/v1/invitations?workspaceId=${workspace.id}`,
        headers: { cookie: owner.cookie },
      })
      return listed
        .json()
        .invitations.filter((row: { invitedBy: string }) => row.invitedBy === inviterId)
        .map((row: { email: string; status: string }) => [row.email, row.status])
        .sort()
    }
    const leftRevoked = () =>
      eventually('the invitation left pending to show revoked', async () =>
        (await lookup(invitation, left.token)).json().status === 'revoked' ? true : undefined,
      )
    return { owner, workspace, squatter, left, statusesBy, leftRevoked }
  }

  it('refuses an invitation an account sends after its reclaim was applied, though its session was checked before (401)', async () => {
    const { workspace, squatter, left, statusesBy, leftRevoked } = await squatterInviting()
    await publishAuthEvents([reclaimed(workspace, squatter)])
    await leftRevoked()
    // The stand-in still vouches for the squatter's session: as auth did a moment before the reclaim.
    const late = uniqueEmail('late')
    const sent = await invite(invitation, squatter.cookie, { workspaceId: workspace.id, email: late })
    assert.equal(sent.statusCode, 401, sent.body)
    assert.equal(sent.json().error, 'unauthenticated')
    assert.deepEqual(await statusesBy(squatter.user.id), [[left.email.toLowerCase(), 'revoked']])
  })

  it('revokes an invitation an account was still committing when its reclaim was applied', async () => {
    const { workspace, squatter, left, statusesBy, leftRevoked } = await squatterInviting()
    const late = uniqueEmail('late').toLowerCase()
    const removals = [reclaimed(workspace, squatter)]
    const sent = await inviteDuringRemovals(squatter, workspace, late, removals, leftRevoked)
    assert.ok([201, 401].includes(sent.statusCode), sent.body)
    await eventually(
      'every invitation the squatter sent to show revoked',
      async () => {
        const statuses = await statusesBy(squatter.user.id)
        return statuses.every(([, status]: string[]) => status === 'revoked') ? statuses : undefined
      },
      { timeoutMs: 10_000 },
    )
    assert.ok((await statusesBy(squatter.user.id)).some(([email]: string[]) => email === left.email.toLowerCase()))
  })

  it('the invitations an account left pending are revoked when its address is reclaimed, each announced as a revoke is', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const squatter = auth.signUp()
    auth.addMember(workspace.id, squatter, 'admin')
    const left = await inviteAndReceive({ invitation, sink }, squatter.cookie, workspace.id)
    const ownersOwn = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    await publishAuthEvents([reclaimed(workspace, squatter)])
    const revokedEvents = await eventually('invitation.revoked in the outbox', async () => {
      const rows = await invitation.db.select().from(outbox)
      const found = rows
        .map((row) => row.event)
        .filter((event) => event.type === 'invitation.revoked' && event.workspaceId === workspace.id)
      return found.length > 0 ? found : undefined
    })
    assert.deepEqual(
      revokedEvents.map((event) => event.type === 'invitation.revoked' && [event.invitationId, event.email, event.by]),
      [[left.invitation.id, left.email.toLowerCase(), squatter.user.id]],
    )
    assert.equal((await lookup(invitation, left.token)).json().status, 'revoked')
    assert.equal((await lookup(invitation, ownersOwn.token)).json().status, 'pending')
  })

  /** A workspace an unproven account alone owns, with a proven admin who has one invitation pending there. */
  async function squatterOwning() {
    const squatter = auth.signUp(undefined, { emailConfirmed: false })
    const workspace = auth.createWorkspace(squatter)
    const admin = auth.signUp()
    auth.addMember(workspace.id, admin, 'admin')
    const left = await inviteAndReceive({ invitation, sink }, admin.cookie, workspace.id)
    // What auth announces when the squatter's address is reclaimed: the workspace went with it,
    // and so did every membership of it.
    const removal = (member: SignedInPerson, role: 'owner' | 'admin') =>
      createEvent('membership.removed', {
        workspaceId: workspace.id,
        workspaceName: workspace.name,
        userId: member.user.id,
        email: member.email,
        role,
        by: squatter.user.id,
        actingSession: { method: 'password' },
        reason: 'workspace_deleted',
      })
    const adminRemoved = removal(admin, 'admin')
    const removals = [removal(squatter, 'owner'), adminRemoved]
    const deleteWorkspace = () => publishAuthEvents(removals)
    // The admin's removal revokes what is pending there, and writes their notice in the same transaction.
    const adminRemovalApplied = () =>
      eventually('the admin’s removal to be applied', async () =>
        (await invitation.db.select().from(emails).where(eq(emails.eventId, adminRemoved.id))).length > 0
          ? true
          : undefined,
      )
    const leftRevoked = () =>
      eventually('the invitation left pending to show revoked', async () =>
        (await lookup(invitation, left.token)).json().status === 'revoked' ? true : undefined,
      )
    const pendingThere = async () =>
      (await invitation.db.select().from(invitations).where(eq(invitations.workspaceId, workspace.id)))
        .filter((row) => row.status === 'pending')
        .map((row) => row.email)
    return {
      workspace,
      admin,
      left,
      removals,
      adminRemoved,
      deleteWorkspace,
      adminRemovalApplied,
      leftRevoked,
      pendingThere,
    }
  }

  it('refuses an invitation an admin sends into a workspace after its deletion was applied, though their role was checked before (410 workspace_deleted)', async () => {
    const { workspace, admin, deleteWorkspace, leftRevoked, pendingThere } = await squatterOwning()
    await deleteWorkspace()
    await leftRevoked()
    // The stand-in still vouches for the admin's role: as auth did a moment before the deletion.
    const sent = await invite(invitation, admin.cookie, { workspaceId: workspace.id, email: uniqueEmail('late') })
    assert.equal(sent.statusCode, 410, sent.body)
    assert.equal(sent.json().error, 'workspace_deleted')
    assert.deepEqual(await pendingThere(), [])
  })

  it('revokes an invitation an admin was still committing into a workspace when its deletion was applied', async () => {
    const { workspace, admin, removals, adminRemovalApplied, leftRevoked, pendingThere } = await squatterOwning()
    const late = uniqueEmail('late').toLowerCase()
    // The admin was checked before the deletion; their invitation commits while it is applied.
    const sent = await inviteDuringRemovals(admin, workspace, late, removals, leftRevoked)
    assert.equal(sent.statusCode, 201, sent.body)
    await adminRemovalApplied()
    assert.deepEqual(await pendingThere(), [])
  })

  it('an invitation into a deleted workspace cannot be accepted (410 workspace_deleted)', async () => {
    const { left, deleteWorkspace, leftRevoked } = await squatterOwning()
    const invitee = auth.signUp(left.email)
    await deleteWorkspace()
    await leftRevoked()
    const refused = await accept(invitation, left.token, invitee.cookie)
    assert.equal(refused.statusCode, 410, refused.body)
    assert.equal(refused.json().error, 'workspace_deleted')
  })

  it('an invitation accepted after auth deleted its workspace, before the deletion was applied here, shows revoked once it is', async () => {
    const { left, deleteWorkspace, adminRemovalApplied, pendingThere } = await squatterOwning()
    const invitee = auth.signUp(left.email)
    // Auth has deleted the workspace; its announcement has not been applied here yet, so the
    // acceptance goes through (auth's consumer will find no workspace to grant it in).
    const accepted = await accept(invitation, left.token, invitee.cookie)
    assert.equal(accepted.statusCode, 200, accepted.body)
    await deleteWorkspace()
    await adminRemovalApplied()
    const shown = (await lookup(invitation, left.token)).json()
    assert.equal(shown.status, 'revoked', 'an accepted invitation into a deleted workspace made nobody a member')
    const [row] = await invitation.db.select().from(invitations).where(eq(invitations.id, left.invitation.id))
    assert.ok(row?.acceptedAt && row.revokedAt, 'it still says when it was accepted, and when it ended')
    assert.deepEqual(await pendingThere(), [])
    const again = await accept(invitation, left.token, invitee.cookie)
    assert.equal(again.statusCode, 410, again.body)
    assert.equal(again.json().error, 'workspace_deleted')
  })

  it('an invitation accepted while the deletion of its workspace is applied ends revoked, whichever commits first', async () => {
    const { left, adminRemoved, adminRemovalApplied } = await squatterOwning()
    const invitee = auth.signUp(left.email)
    // The test holds the invitation's row: the acceptance waits to write it, then the deletion's
    // revocation of what is pending there queues behind it. One removal only, as when the owner
    // was the workspace's only member: no later event of the deletion sweeps again.
    const release = await holdInTransaction(invitation.db, (tx) =>
      tx.select().from(invitations).where(eq(invitations.id, left.invitation.id)).for('update'),
    )
    const accepting = accept(invitation, left.token, invitee.cookie)
    await lockWaiters(invitation.db, 1)
    await publishAuthEvents([adminRemoved])
    await lockWaiters(invitation.db, 2)
    await release()
    const answered = await accepting
    assert.ok([200, 410].includes(answered.statusCode), answered.body)
    await adminRemovalApplied()
    assert.equal((await lookup(invitation, left.token)).json().status, 'revoked')
  })

  it('a revoked invitation cannot be accepted (410 revoked); the email can be invited again', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const first = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const invitee = auth.signUp(first.email)

    assert.equal(await revoke(owner.cookie, first.invitation.id), 204)
    assert.equal(await revoke(owner.cookie, first.invitation.id), 204, 'revoking twice changes nothing')
    const refused = await accept(invitation, first.token, invitee.cookie)
    assert.equal(refused.statusCode, 410)
    assert.equal(refused.json().error, 'revoked')
    assert.equal((await lookup(invitation, first.token)).json().status, 'revoked')

    const second = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id, first.email)
    assert.notEqual(second.token, first.token)
    const accepted = await accept(invitation, second.token, invitee.cookie)
    assert.equal(accepted.statusCode, 200, accepted.body)
  })

  it('an invitation expires after its lifetime (410 expired) and the email can then be invited again', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const first = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const invitee = auth.signUp(first.email)

    invitation.advanceClock(7 * day + 1000)
    assert.equal((await lookup(invitation, first.token)).json().status, 'expired')
    const refused = await accept(invitation, first.token, invitee.cookie)
    assert.equal(refused.statusCode, 410)
    assert.equal(refused.json().error, 'expired')
    const resend = await resendOf(owner.cookie, first.invitation.id)
    assert.equal(resend.statusCode, 409)
    assert.equal(resend.json().error, 'not_pending')

    const second = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id, first.email)
    assert.equal((await accept(invitation, second.token, invitee.cookie)).statusCode, 200)
    const listed = await invitation.app.inject({
      method: 'GET',
      url: `/v1/invitations?workspaceId=${workspace.id}`,
      headers: { cookie: owner.cookie },
    })
    assert.deepEqual(
      listed.json().invitations.map((row: { status: string }) => row.status),
      ['accepted', 'expired'],
    )
  })

  it('resend (202) rotates the token: a new email arrives, the old link stops working', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const first = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)

    const resent = await resendOf(owner.cookie, first.invitation.id)
    assert.equal(resent.statusCode, 202, resent.body)
    const second = await sink.waitFor(
      (mail) =>
        mail.envelopeTo.includes(first.email) && isInvitationEmail(mail) && invitationTokenOf(mail) !== first.token,
    )
    const newToken = invitationTokenOf(second)
    assert.equal((await lookup(invitation, first.token)).statusCode, 404)
    assert.equal((await lookup(invitation, first.token)).json().error, 'invalid_token')
    assert.equal((await lookup(invitation, newToken)).json().status, 'pending')

    const stranger = auth.signUp()
    assert.equal((await resendOf(stranger.cookie, first.invitation.id)).statusCode, 403)
    assert.equal((await resendOf(owner.cookie, randomUUID())).statusCode, 404)

    const invitee = auth.signUp(first.email)
    assert.equal((await accept(invitation, first.token, invitee.cookie)).json().error, 'invalid_token')
    assert.equal((await accept(invitation, newToken, invitee.cookie)).statusCode, 200)
    const afterAccept = await resendOf(owner.cookie, first.invitation.id)
    assert.equal(afterAccept.statusCode, 409)
    assert.equal(afterAccept.json().error, 'not_pending')
  })

  it('revoking needs the owner or an admin, and an existing invitation', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const { invitation: created } = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const stranger = auth.signUp()
    assert.equal(await revoke(stranger.cookie, created.id), 403)
    assert.equal(await revoke('', created.id), 401)
    assert.equal(await revoke(owner.cookie, randomUUID()), 404)
    assert.equal(await revoke(owner.cookie, created.id), 204)
    const events = await invitation.db.select().from(outbox)
    assert.ok(events.some(({ event }) => event.type === 'invitation.revoked' && event.invitationId === created.id))
  })

  it('refuses state-changing requests from another origin (403 forbidden_origin)', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const response = await invitation.app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: { cookie: owner.cookie, origin: 'https://evil.example' },
      payload: { workspaceId: workspace.id, email: uniqueEmail(), role: 'member' },
    })
    assert.equal(response.statusCode, 403)
    assert.equal(response.json().error, 'forbidden_origin')
    const sameOrigin = await invitation.app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: { cookie: owner.cookie, origin: publicUrl },
      payload: { workspaceId: workspace.id, email: uniqueEmail(), role: 'member' },
    })
    assert.equal(sameOrigin.statusCode, 201)
  })

  it('never writes a token or a session to its log', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const { email, token } = await inviteAndReceive({ invitation, sink }, owner.cookie, workspace.id)
    const invitee = auth.signUp(email)
    assert.equal((await accept(invitation, token, invitee.cookie)).statusCode, 200)
    const logs = invitation.logs()
    assert.ok(logs.includes('/v1/invitations/accept'), 'requests are logged')
    for (const secret of [token, invitee.cookie.split('=')[1] ?? '', owner.cookie.split('=')[1] ?? '']) {
      assert.equal(logs.includes(secret), false)
    }
  })

  async function joinByInvitation(ownerCookie: string, workspaceId: string, role: 'member' | 'admin') {
    const invited = await inviteAndReceive({ invitation, sink }, ownerCookie, workspaceId, undefined, role)
    const person = auth.signUp(invited.email)
    const accepted = await accept(invitation, invited.token, person.cookie)
    assert.equal(accepted.statusCode, 200, accepted.body)
    await grantAccepted({ auth, invitation }, invited.invitation.id)
    return person
  }

  function revokeResponse(cookie: string, invitationId: string) {
    return invitation.app.inject({
      method: 'DELETE',
      url: `/v1/invitations/${invitationId}`,
      headers: cookie ? { cookie } : {},
    })
  }

  async function revoke(cookie: string, invitationId: string) {
    return (await revokeResponse(cookie, invitationId)).statusCode
  }

  function resendOf(cookie: string, invitationId: string) {
    return invitation.app.inject({
      method: 'POST',
      url: `/v1/invitations/${invitationId}/resend`,
      headers: { cookie },
    })
  }
})
