// Issue 5, acceptance 1 and 2, across real processes: auth and invitation started as they run in
// production (not app.inject), a real SMTP server as the mail sink, real Postgres and Redis, and
// the dev IdP answering as Microsoft Entra would.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { type AuthEvent, type Subscription, subscribe } from '@gatehouse/events'
import { uniqueEmail, uniqueSuffix, eventually as waitFor } from '@gatehouse/testing'
import { confirmAddress } from '../support/account-proof.ts'
import { request } from '../support/http-client.ts'
import type { RunningProcess } from '../support/processes.ts'
import { invitationTokenOf, isInvitationEmail, type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts'
import { type Stack, startStack } from '../support/stack.ts'

const password = 'correct horse battery staple'

describe('invite, email, password signup, accept, and only then SSO', () => {
  let stack: Stack
  let sink: SmtpSink
  let idp: DevIdp
  let auth: RunningProcess
  let invitation: RunningProcess
  /** A second invitation process whose invitations live one second, for the expiry case. */
  let shortLived: RunningProcess

  before(async () => {
    ;[sink, idp] = await Promise.all([startSmtpSink(), generateSigningKeys().then((keys) => createDevIdp({ keys }))])
    stack = await startStack({ web: false, devIdp: false, smtpUrl: sink.url })
    auth = stack.program('auth')
    invitation = stack.program('invitation')
    shortLived = await stack.startInvitation({ INVITATION_TTL_SECONDS: '1' })
  })
  after(async () => {
    await stack?.stop()
    await sink?.close()
  })

  async function signUp(email: string) {
    const response = await request(`${auth.url}/v1/auth/signup`, { json: { email, password } })
    assert.equal(response.status, 201, JSON.stringify(response.body))
    const cookie = response.cookies.session
    assert.ok(cookie)
    const account = { email, cookie, userId: response.body.user.id as string }
    await confirmAddress(stack.proof, account)
    return account
  }

  async function ownerWithSso() {
    const owner = await signUp(uniqueEmail('owner'))
    const workspace = await request(`${auth.url}/v1/workspaces`, { cookie: owner.cookie, json: { name: 'Acme' } })
    assert.equal(workspace.status, 201)
    const workspaceId = workspace.body.workspace.id as string
    const turnedOn = await request(`${auth.url}/v1/workspaces/${workspaceId}/sso`, {
      method: 'POST',
      cookie: owner.cookie,
    })
    assert.equal(turnedOn.status, 201, JSON.stringify(turnedOn.body))
    // The three values an admin copies from Entra's "Set up single sign-on with SAML" page.
    const configured = await request(`${auth.url}/v1/workspaces/${workspaceId}/sso/idp`, {
      method: 'PUT',
      cookie: owner.cookie,
      json: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
    assert.equal(configured.body.connection.status, 'active')
    return { owner, workspaceId, connection: configured.body.connection as { id: string; sp: SpValues } }
  }

  interface SpValues {
    entityId: string
    acsUrl: string
  }

  /** SP-initiated SSO as a browser does it: /login, the IdP's answer, the POST to the ACS with the cookie. */
  async function ssoAs(connection: { id: string; sp: SpValues }, email: string) {
    const started = await request(`${auth.url}/sso/saml/${connection.id}/login?returnTo=/home`)
    assert.equal(started.status, 302)
    const location = new URL(String(started.headers.get('location')))
    const authnRequest = idp.parseAuthnRequest({
      SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
      RelayState: location.searchParams.get('RelayState') ?? undefined,
    })
    const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email }, inResponseTo: authnRequest.id })
    return request(`${auth.url}/sso/saml/${connection.id}/acs`, {
      cookie: Object.values(started.cookies).join('; '),
      form: { SAMLResponse: samlResponse, RelayState: location.searchParams.get('RelayState') ?? '' },
    })
  }

  function invite(base: string, cookie: string, workspaceId: string, email: string) {
    return request(`${base}/v1/invitations`, { cookie, json: { workspaceId, email, role: 'member' } })
  }

  async function inviteAndReceive(base: string, cookie: string, workspaceId: string, email: string) {
    const invited = await invite(base, cookie, workspaceId, email)
    assert.equal(invited.status, 201, JSON.stringify(invited.body))
    const received = await sink.waitFor((mail) => mail.envelopeTo.includes(email) && isInvitationEmail(mail))
    return { invitationId: invited.body.invitation.id as string, token: invitationTokenOf(received), received }
  }

  function accept(base: string, token: string, cookie: string) {
    return request(`${base}/v1/invitations/accept`, { cookie, json: { token } })
  }

  // Bounded waits whose failure shows what both services logged.
  const eventually = <T>(what: string, attempt: () => Promise<T | undefined>) =>
    waitFor(what, attempt, {
      timeoutMs: 10_000,
      intervalMs: 50,
      describe: () =>
        [auth, invitation].map((running) => `${running.name}:\n${running.output().slice(-3000)}`).join('\n'),
    })

  it('refuses SSO to an invited person until they signed up with a password and accepted, then lets them in', async (t) => {
    const bobEvents: AuthEvent[] = []
    const bob = uniqueEmail('bob')
    const subscription: Subscription = await subscribe(
      { redisUrl: stack.redisUrl, group: `e2e-invitation-sso-${uniqueSuffix()}`, from: 'now' },
      async (event) => {
        if (event.type.startsWith('auth.login.') && 'email' in event && event.email === bob) bobEvents.push(event)
      },
    )
    t.after(() => subscription.close())

    const { owner, workspaceId, connection } = await ownerWithSso()
    const { token, received } = await inviteAndReceive(invitation.url, owner.cookie, workspaceId, bob)
    assert.match(received.mail.subject ?? '', /invited you to Acme/)
    assert.ok(received.mail.text?.includes(`${stack.webUrl}/invite#token=${token}`))

    // Invited, but no account yet: refused, and told what to do.
    const beforeSignup = await ssoAs(connection, bob)
    assert.equal(beforeSignup.status, 403, JSON.stringify(beforeSignup.body))
    assert.equal(beforeSignup.body.error, 'sso_not_allowed')
    assert.equal(beforeSignup.cookies.session, undefined)

    // The link from the email works without a session.
    const looked = await request(`${invitation.url}/v1/invitations/lookup`, { json: { token } })
    assert.equal(looked.status, 200)
    assert.deepEqual(
      { workspaceName: looked.body.workspaceName, email: looked.body.email, status: looked.body.status },
      { workspaceName: 'Acme', email: bob, status: 'pending' },
    )

    const bobAccount = await signUp(bob)
    // A password account alone is not enough: the invitation must be accepted.
    const beforeAccept = await ssoAs(connection, bob)
    assert.equal(beforeAccept.status, 403)
    assert.equal(beforeAccept.body.error, 'sso_not_allowed')

    const accepted = await accept(invitation.url, token, bobAccount.cookie)
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
    assert.equal(accepted.body.invitation.status, 'accepted')

    // Auth grants the membership when the invitation.accepted event reaches it over the queue.
    await eventually('the membership granted by auth', async () => {
      const session = await request(`${auth.url}/v1/auth/session`, { cookie: bobAccount.cookie })
      const memberships = session.body.memberships as { workspaceId: string; ssoAllowed: boolean }[]
      return memberships.some((entry) => entry.workspaceId === workspaceId && entry.ssoAllowed) ? true : undefined
    })
    const signedIn = await ssoAs(connection, bob)
    assert.equal(signedIn.status, 302, JSON.stringify(signedIn.body))
    assert.equal(signedIn.headers.get('location'), '/home')
    assert.ok(signedIn.cookies.session)
    const session = await request(`${auth.url}/v1/auth/session`, { cookie: signedIn.cookies.session })
    assert.equal(session.body.user.id, bobAccount.userId)

    // The subscriber group saw the refusals, then the success, in that order.
    await eventually('the login events', async () =>
      bobEvents.some((event) => event.type === 'auth.login.succeeded') ? true : undefined,
    )
    assert.deepEqual(
      bobEvents.map((event) => event.type),
      ['auth.login.failed', 'auth.login.failed', 'auth.login.succeeded'],
    )
    for (const event of bobEvents) {
      assert.equal('method' in event && event.method, 'saml')
      assert.equal('workspaceId' in event && event.workspaceId, workspaceId)
    }

    // The link is single use.
    const reused = await accept(invitation.url, token, bobAccount.cookie)
    assert.equal(reused.status, 409)
    assert.equal(reused.body.error, 'already_accepted')
  })

  it('refuses to accept with the session of another email (403 email_mismatch)', async () => {
    const { owner, workspaceId } = await ownerWithSso()
    const carol = uniqueEmail('carol')
    const { token } = await inviteAndReceive(invitation.url, owner.cookie, workspaceId, carol)
    const dave = await signUp(uniqueEmail('dave'))
    const refused = await accept(invitation.url, token, dave.cookie)
    assert.equal(refused.status, 403)
    assert.equal(refused.body.error, 'email_mismatch')
    const carolAccount = await signUp(carol)
    assert.equal((await accept(invitation.url, token, carolAccount.cookie)).status, 200)
  })

  it('refuses a revoked invitation (410 revoked) and an expired one (410 expired)', async () => {
    const { owner, workspaceId } = await ownerWithSso()

    const erin = uniqueEmail('erin')
    const revokedInvitation = await inviteAndReceive(invitation.url, owner.cookie, workspaceId, erin)
    const revoked = await request(`${invitation.url}/v1/invitations/${revokedInvitation.invitationId}`, {
      method: 'DELETE',
      cookie: owner.cookie,
    })
    assert.equal(revoked.status, 204)
    const erinAccount = await signUp(erin)
    const refusedRevoked = await accept(invitation.url, revokedInvitation.token, erinAccount.cookie)
    assert.equal(refusedRevoked.status, 410)
    assert.equal(refusedRevoked.body.error, 'revoked')

    const frank = uniqueEmail('frank')
    const expiring = await inviteAndReceive(shortLived.url, owner.cookie, workspaceId, frank)
    const frankAccount = await signUp(frank)
    await eventually('the one-second invitation to expire', async () => {
      const looked = await request(`${shortLived.url}/v1/invitations/lookup`, { json: { token: expiring.token } })
      return looked.body.status === 'expired' ? true : undefined
    })
    const refusedExpired = await accept(shortLived.url, expiring.token, frankAccount.cookie)
    assert.equal(refusedExpired.status, 410)
    assert.equal(refusedExpired.body.error, 'expired')
  })

  it('revoking an accepted invitation removes the member: their SSO session ends, their next SSO is refused, they are told, and the workspace keeps its owner', async (t) => {
    const events: AuthEvent[] = []
    const subscription: Subscription = await subscribe(
      { redisUrl: stack.redisUrl, group: `e2e-member-removal-${uniqueSuffix()}`, from: 'now' },
      async (event) => {
        if (event.type === 'membership.removed' || event.type === 'auth.logout') events.push(event)
      },
    )
    t.after(() => subscription.close())
    const { owner, workspaceId, connection } = await ownerWithSso()
    const gina = uniqueEmail('gina')
    const invited = await request(`${invitation.url}/v1/invitations`, {
      cookie: owner.cookie,
      json: { workspaceId, email: gina, role: 'admin' },
    })
    assert.equal(invited.status, 201)
    const invitationId = invited.body.invitation.id as string
    const token = invitationTokenOf(await sink.waitFor((mail) => mail.envelopeTo.includes(gina)))
    const ginaAccount = await signUp(gina)
    assert.equal((await accept(invitation.url, token, ginaAccount.cookie)).status, 200)
    await eventually('gina’s membership', async () => {
      const session = await request(`${auth.url}/v1/auth/session`, { cookie: ginaAccount.cookie })
      return session.body.memberships.length === 1 ? true : undefined
    })
    const signedIn = await ssoAs(connection, gina)
    assert.equal(signedIn.status, 302, JSON.stringify(signedIn.body))
    const ssoCookie = signedIn.cookies.session ?? ''
    const listing = `${invitation.url}/v1/invitations?workspaceId=${workspaceId}`
    assert.equal((await request(listing, { cookie: ssoCookie })).status, 200)

    const removed = await request(`${invitation.url}/v1/invitations/${invitationId}`, {
      method: 'DELETE',
      cookie: owner.cookie,
    })
    assert.equal(removed.status, 204, JSON.stringify(removed.body))
    // At once in auth: the next SSO is refused and the SSO session is gone.
    const again = await ssoAs(connection, gina)
    assert.equal(again.status, 403)
    assert.equal(again.body.error, 'sso_not_allowed')
    assert.equal((await request(`${auth.url}/v1/workspaces/${workspaceId}`, { cookie: ssoCookie })).status, 401)
    // The invitation service, which asks auth who a session is, refuses it too.
    await eventually('the invitation service to refuse the ended session', async () =>
      (await request(listing, { cookie: ssoCookie })).status === 401 ? true : undefined,
    )
    // The password session stays, without the workspace.
    const session = await request(`${auth.url}/v1/auth/session`, { cookie: ginaAccount.cookie })
    assert.deepEqual(session.body.memberships, [])
    const told = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(gina) && /removed from/.test(mail.mail.subject ?? ''),
    )
    assert.match(told.mail.text ?? '', /invite you again/)
    await eventually('membership.removed and auth.logout on auth-events', async () => {
      const removal = events.find((event) => event.type === 'membership.removed' && event.userId === ginaAccount.userId)
      const logout = events.find((event) => event.type === 'auth.logout' && event.userId === ginaAccount.userId)
      return removal && logout ? { removal, logout } : undefined
    })

    // The owner may neither remove themselves nor leave while they are the only owner.
    const leave = `${auth.url}/v1/workspaces/${workspaceId}/leave`
    const refused = await request(leave, { method: 'POST', cookie: owner.cookie })
    assert.equal(refused.status, 409)
    assert.equal(refused.body.error, 'last_owner')
    const members = await request(`${auth.url}/v1/workspaces/${workspaceId}/members`, { cookie: owner.cookie })
    assert.deepEqual(
      members.body.members.map((member: { role: string }) => member.role),
      ['owner'],
    )
  })

  it('a member who leaves in auth shows as revoked in the invitations; both services refuse an upper-case workspace id alike', async () => {
    const { owner, workspaceId } = await ownerWithSso()
    const email = uniqueEmail('leaver')
    const { invitationId, token } = await inviteAndReceive(invitation.url, owner.cookie, workspaceId, email)
    const leaver = await signUp(email)
    assert.equal((await accept(invitation.url, token, leaver.cookie)).status, 200)
    await eventually('the membership granted', async () => {
      const session = await request(`${auth.url}/v1/auth/session`, { cookie: leaver.cookie })
      return session.body.memberships.length > 0 ? true : undefined
    })
    const left = await request(`${auth.url}/v1/workspaces/${workspaceId}/leave`, {
      method: 'POST',
      cookie: leaver.cookie,
    })
    assert.equal(left.status, 204, JSON.stringify(left.body))
    await eventually('the invitation to show the removal', async () => {
      const listed = await request(`${invitation.url}/v1/invitations?workspaceId=${workspaceId}`, {
        cookie: owner.cookie,
      })
      const shown = listed.body.invitations.find((row: { id: string }) => row.id === invitationId)
      return shown?.status === 'revoked' ? true : undefined
    })

    const upper = workspaceId.toUpperCase()
    const atAuth = await request(`${auth.url}/v1/workspaces/${upper}`, { cookie: owner.cookie })
    const atInvitation = await request(`${invitation.url}/v1/invitations?workspaceId=${upper}`, {
      cookie: owner.cookie,
    })
    assert.deepEqual([atAuth.status, atAuth.body.error], [atInvitation.status, atInvitation.body.error])
    assert.equal(atAuth.status, 400)
  })
})
