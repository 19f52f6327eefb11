// Issue 13, acceptance 2 and 3, across real processes: auth and invitation as they run in
// production, a real SMTP server as everyone's mailbox, real Postgres and Redis, and the dev IdP
// answering as Microsoft Entra would. A squatter's unproven account is taken back by the
// address's owner, who then joins and signs in with SSO; a reset link works once; and no link's
// token ever appears in what the processes logged.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { uniqueEmail, uniqueSuffix, eventually as waitFor } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import type { RunningProcess } from '../support/processes.ts'
import {
  invitationTokenOf,
  isInvitationEmail,
  linkTokenOf,
  type SmtpSink,
  startSmtpSink,
} from '../support/smtp-sink.ts'
import { type Stack, startStack } from '../support/stack.ts'

const password = 'correct horse battery staple'

describe('proof of address and password reset across the real processes', () => {
  let stack: Stack
  let sink: SmtpSink
  let idp: DevIdp
  let auth: RunningProcess
  let invitation: RunningProcess
  /** Every token a mail carried in this run: none may appear in a log. */
  const mailedTokens = new Set<string>()

  before(async () => {
    ;[sink, idp] = await Promise.all([startSmtpSink(), generateSigningKeys().then((keys) => createDevIdp({ keys }))])
    // At debug, whatever the programs log could leak a token: the last test reads it all.
    stack = await startStack({ web: false, devIdp: false, smtpUrl: sink.url, env: { LOG_LEVEL: 'debug' } })
    auth = stack.program('auth')
    invitation = stack.program('invitation')
  })
  after(async () => {
    await stack?.stop()
    await sink?.close()
  })

  const eventually = <T>(what: string, attempt: () => Promise<T | undefined>) =>
    waitFor(what, attempt, { timeoutMs: 15_000, intervalMs: 50, describe: () => stack.output().slice(-4000) })

  /** The mail to `email` linking to `page`; its token is remembered. */
  async function mailedLink(email: string, page: '/invite' | '/confirm' | '/reset') {
    const mail = await sink.waitFor(
      (received) => received.envelopeTo.includes(email) && linkTokenOf(received, page) !== undefined,
      15_000,
    )
    const token = linkTokenOf(mail, page) ?? ''
    mailedTokens.add(token)
    assert.ok(mail.mail.text?.includes(`${stack.webUrl}${page}#token=${token}`), 'the token rides in the fragment')
    assert.ok(
      String(mail.mail.html).includes(`${stack.webUrl}${page}#token=${token}`),
      'the HTML part links the same page',
    )
    return { token, mail }
  }

  async function signUp(email: string, invitationToken?: string) {
    const response = await request(`${auth.url}/v1/auth/signup`, {
      json: { email, password, ...(invitationToken ? { invitationToken } : {}) },
    })
    return { response, cookie: response.cookies.session ?? '' }
  }

  const sessionOf = (cookie: string) => request(`${auth.url}/v1/auth/session`, { cookie })

  /** SP-initiated SSO as a browser does it: /login, the IdP's answer, the POST to the ACS. */
  async function ssoAs(connection: { id: string; sp: { entityId: string; acsUrl: string } }, email: string) {
    const started = await request(`${auth.url}/sso/saml/${connection.id}/login?returnTo=/`)
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

  /** corp.test's owner: an account proven by its mailed confirmation link, a workspace, SSO on. */
  async function corpWithSso() {
    const email = uniqueEmail('owner')
    const owner = await signUp(email)
    assert.equal(owner.response.status, 201, JSON.stringify(owner.response.body))
    const { token } = await mailedLink(email, '/confirm')
    const confirmed = await request(`${auth.url}/v1/auth/email/confirm`, { cookie: owner.cookie, json: { token } })
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body))
    const workspace = await request(`${auth.url}/v1/workspaces`, { cookie: owner.cookie, json: { name: 'Corp' } })
    const workspaceId = workspace.body.workspace.id as string
    await request(`${auth.url}/v1/workspaces/${workspaceId}/sso`, { method: 'POST', cookie: owner.cookie })
    const configured = await request(`${auth.url}/v1/workspaces/${workspaceId}/sso/idp`, {
      method: 'PUT',
      cookie: owner.cookie,
      json: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
    return { owner, workspaceId, connection: configured.body.connection }
  }

  it('the owner of an address reclaims the unproven account a squatter made with it, joins with the invitation and signs in with SSO', async () => {
    const { owner, workspaceId, connection } = await corpWithSso()
    const ceo = `ceo-${uniqueSuffix()}@corp.test`

    // The squatter signs up first with the address; nobody has proven it.
    const squatter = await signUp(ceo)
    assert.equal(squatter.response.status, 201)
    assert.equal(squatter.response.body.user.emailConfirmed, false)
    // Its confirmation link lands in the real owner's mailbox, not the squatter's.
    await mailedLink(ceo, '/confirm')
    // Meanwhile the squatter sets up a workspace of its own and invites an accomplice.
    const squat = await request(`${auth.url}/v1/workspaces`, { cookie: squatter.cookie, json: { name: 'Corp HQ' } })
    assert.equal(squat.status, 201, JSON.stringify(squat.body))
    const accomplice = uniqueEmail('accomplice')
    const invitedByHim = await request(`${invitation.url}/v1/invitations`, {
      cookie: squatter.cookie,
      json: { workspaceId: squat.body.workspace.id, email: accomplice, role: 'admin' },
    })
    assert.equal(invitedByHim.status, 201, JSON.stringify(invitedByHim.body))
    const accompliceMail = await sink.waitFor((mail) => mail.envelopeTo.includes(accomplice) && isInvitationEmail(mail))
    const accompliceToken = invitationTokenOf(accompliceMail)
    mailedTokens.add(accompliceToken)

    // Corp invites the address; the real owner gets the link.
    const invited = await request(`${invitation.url}/v1/invitations`, {
      cookie: owner.cookie,
      json: { workspaceId, email: ceo, role: 'member' },
    })
    assert.equal(invited.status, 201, JSON.stringify(invited.body))
    const invitationMail = await sink.waitFor((mail) => mail.envelopeTo.includes(ceo) && isInvitationEmail(mail))
    const invitationToken = invitationTokenOf(invitationMail)
    mailedTokens.add(invitationToken)

    // The squatter holds the account, but without the link cannot join, and SSO refuses it.
    const squatterAccepts = await request(`${invitation.url}/v1/invitations/accept`, {
      cookie: squatter.cookie,
      json: { token: 'guessed-token' },
    })
    assert.equal(squatterAccepts.status, 404)

    // The owner, holding the genuine link: the address is taken, so they reclaim it with the link.
    const signup = await signUp(ceo, invitationToken)
    assert.equal(signup.response.status, 409)
    assert.equal(signup.response.body.error, 'email_taken')
    const reclaimed = await request(`${auth.url}/v1/auth/email/reclaim`, {
      json: { token: invitationToken, from: 'invitation', password: 'the real ceo chose this one' },
    })
    assert.equal(reclaimed.status, 200, JSON.stringify(reclaimed.body))
    assert.equal(reclaimed.body.user.emailConfirmed, true)
    const ceoCookie = reclaimed.cookies.session ?? ''
    // The squatter's password and sessions are gone.
    assert.equal((await sessionOf(squatter.cookie)).status, 401)
    const squatterLogin = await request(`${auth.url}/v1/auth/login`, { json: { email: ceo, password } })
    assert.equal(squatterLogin.status, 401)
    const notice = await sink.waitFor(
      (mail) => mail.envelopeTo.includes(ceo) && /password was changed/.test(mail.mail.subject ?? ''),
      15_000,
    )
    assert.match(notice.mail.text ?? '', /created the account without confirming it was signed out/)
    // Nothing the squatter set up is handed to the owner: its workspace went, and its invitation with it.
    assert.deepEqual((await sessionOf(ceoCookie)).body.memberships, [])
    await eventually('the invitation the squatter sent to be revoked', async () => {
      const looked = await request(`${invitation.url}/v1/invitations/lookup`, { json: { token: accompliceToken } })
      return looked.body.status === 'revoked' ? true : undefined
    })

    // Now the owner accepts, and signs in with SSO.
    const accepted = await request(`${invitation.url}/v1/invitations/accept`, {
      cookie: ceoCookie,
      json: { token: invitationToken },
    })
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
    await eventually('the membership granted by auth', async () => {
      const session = await sessionOf(ceoCookie)
      const memberships = session.body.memberships as { workspaceId: string; ssoAllowed: boolean }[]
      return memberships.some((entry) => entry.workspaceId === workspaceId && entry.ssoAllowed) ? true : undefined
    })
    const signedIn = await ssoAs(connection, ceo)
    assert.equal(signedIn.status, 302, JSON.stringify(signedIn.body))
    const session = await sessionOf(signedIn.cookies.session ?? '')
    assert.equal(session.body.user.email, ceo)
    assert.equal(session.body.user.id, reclaimed.body.user.id)
  })

  it('an account made from an invitation link is proven by it; one made without is refused joining until confirmed', async () => {
    const { owner, workspaceId } = await corpWithSso()
    const invite = async (email: string) => {
      const invited = await request(`${invitation.url}/v1/invitations`, {
        cookie: owner.cookie,
        json: { workspaceId, email, role: 'member' },
      })
      assert.equal(invited.status, 201, JSON.stringify(invited.body))
      const mail = await sink.waitFor((received) => received.envelopeTo.includes(email) && isInvitationEmail(received))
      const token = invitationTokenOf(mail)
      mailedTokens.add(token)
      return token
    }

    const dana = uniqueEmail('dana')
    const danaToken = await invite(dana)
    const fromLink = await signUp(dana, danaToken)
    assert.equal(fromLink.response.status, 201)
    assert.equal(fromLink.response.body.user.emailConfirmed, true)
    const joined = await request(`${invitation.url}/v1/invitations/accept`, {
      cookie: fromLink.cookie,
      json: { token: danaToken },
    })
    assert.equal(joined.status, 200, JSON.stringify(joined.body))

    const eve = uniqueEmail('eve')
    const eveToken = await invite(eve)
    const plain = await signUp(eve)
    assert.equal(plain.response.body.user.emailConfirmed, false)
    const refused = await request(`${invitation.url}/v1/invitations/accept`, {
      cookie: plain.cookie,
      json: { token: eveToken },
    })
    assert.equal(refused.status, 403)
    assert.equal(refused.body.error, 'email_unconfirmed')
    const { token } = await mailedLink(eve, '/confirm')
    const confirmed = await request(`${auth.url}/v1/auth/email/confirm`, { cookie: plain.cookie, json: { token } })
    assert.equal(confirmed.status, 200)
    // The invitation service reuses auth's answer about a session for at most half a second.
    await eventually('the accept once confirmed', async () => {
      const accepted = await request(`${invitation.url}/v1/invitations/accept`, {
        cookie: plain.cookie,
        json: { token: eveToken },
      })
      return accepted.status === 200 ? true : undefined
    })
  })

  it('mails a reset link that works once, signs the account out everywhere, and mails the person that it happened', async () => {
    const email = uniqueEmail('frank')
    const frank = await signUp(email)
    await mailedLink(email, '/confirm')
    const asked = await request(`${auth.url}/v1/auth/password/forgot`, { json: { email } })
    assert.equal(asked.status, 202)
    const { token, mail } = await mailedLink(email, '/reset')
    assert.match(mail.mail.subject ?? '', /Reset your Gatehouse password/)
    const reset = await request(`${auth.url}/v1/auth/password/reset`, {
      json: { token, password: 'frank resets it here 42' },
    })
    assert.equal(reset.status, 200, JSON.stringify(reset.body))
    assert.equal((await sessionOf(frank.cookie)).status, 401)
    const again = await request(`${auth.url}/v1/auth/password/reset`, { json: { token, password: 'and again 12345' } })
    assert.equal(again.body.error, 'invalid_link')
    await sink.waitFor(
      (received) => received.envelopeTo.includes(email) && /password was changed/.test(received.mail.subject ?? ''),
      15_000,
    )
  })

  it('never writes a mailed token to a server log', async () => {
    assert.ok(mailedTokens.size >= 6, `tokens seen: ${mailedTokens.size}`)
    const written = stack.output()
    assert.ok(written.length > 0)
    for (const token of mailedTokens) assert.ok(!written.includes(token), 'a mailed token is in a process log')
  })
})
