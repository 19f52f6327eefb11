// Issue 11, point 6, across real processes: the first sign-in through an IdP the person has not
// used before mails them (through the invitation service's mailer, to a real SMTP server) which
// workspace's IdP signed them in, with a single-use link that ends that one session.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { type AuthEvent, subscribe } from '@gatehouse/events'
import { uniqueEmail, uniqueSuffix, eventually as waitFor } from '@gatehouse/testing'
import { confirmAddress } from '../support/account-proof.ts'
import { request } from '../support/http-client.ts'
import type { RunningProcess } from '../support/processes.ts'
import { type ReceivedEmail, type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts'
import { type Stack, startStack } from '../support/stack.ts'

const password = 'correct horse battery staple'
const firstSignInSubject = /identity provider signed you in to/

describe('the first sign-in through an IdP is mailed, with a link that ends that session', () => {
  let stack: Stack
  let sink: SmtpSink
  let idp: DevIdp
  let auth: RunningProcess
  let invitation: RunningProcess

  before(async () => {
    ;[sink, idp] = await Promise.all([startSmtpSink(), generateSigningKeys().then((keys) => createDevIdp({ keys }))])
    stack = await startStack({ web: false, devIdp: false, smtpUrl: sink.url })
    auth = stack.program('auth')
    invitation = stack.program('invitation')
  })
  after(async () => {
    await stack?.stop()
    await sink?.close()
  })

  const eventually = <T>(what: string, attempt: () => Promise<T | undefined> | T | undefined) =>
    waitFor(what, async () => attempt(), {
      timeoutMs: 15_000,
      intervalMs: 50,
      describe: () =>
        [auth, invitation].map((running) => `${running.name}:\n${running.output().slice(-3000)}`).join('\n'),
    })

  async function ownerWithSso() {
    const email = uniqueEmail('owner')
    const signedUp = await request(`${auth.url}/v1/auth/signup`, { json: { email, password } })
    assert.equal(signedUp.status, 201, JSON.stringify(signedUp.body))
    const cookie = signedUp.cookies.session as string
    // SSO signs in only accounts whose address is proven.
    await confirmAddress(stack.proof, { userId: signedUp.body.user.id as string, cookie })
    const workspace = await request(`${auth.url}/v1/workspaces`, { cookie, json: { name: 'Acme' } })
    const workspaceId = workspace.body.workspace.id as string
    await request(`${auth.url}/v1/workspaces/${workspaceId}/sso`, { method: 'POST', cookie })
    const configured = await request(`${auth.url}/v1/workspaces/${workspaceId}/sso/idp`, {
      method: 'PUT',
      cookie,
      json: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
    return {
      owner: { email, cookie, userId: signedUp.body.user.id as string },
      workspaceId,
      connection: configured.body.connection as { id: string; sp: { entityId: string; acsUrl: string } },
    }
  }

  /** SP-initiated SSO as a browser does it; the SSO session's cookie. */
  async function ssoAs(
    connection: { id: string; sp: { entityId: string; acsUrl: string } },
    email: string,
    through: DevIdp = idp,
  ) {
    const started = await request(`${auth.url}/sso/saml/${connection.id}/login`)
    assert.equal(started.status, 302)
    const location = new URL(String(started.headers.get('location')))
    const authnRequest = through.parseAuthnRequest({
      SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
      RelayState: location.searchParams.get('RelayState') ?? undefined,
    })
    const samlResponse = through.responseBase64({ sp: connection.sp, user: { email }, inResponseTo: authnRequest.id })
    const signedIn = await request(`${auth.url}/sso/saml/${connection.id}/acs`, {
      cookie: Object.values(started.cookies).join('; '),
      form: { SAMLResponse: samlResponse, RelayState: location.searchParams.get('RelayState') ?? '' },
    })
    assert.equal(signedIn.status, 302, JSON.stringify(signedIn.body))
    return signedIn.cookies.session as string
  }

  const firstSignInMails = (email: string) =>
    sink.received.filter((mail) => mail.envelopeTo.includes(email) && firstSignInSubject.test(mail.mail.subject ?? ''))
  const endLinkTokenOf = (mail: ReceivedEmail) => {
    const token = /\/end-session#token=([\w-]+)/.exec(mail.mail.text ?? '')?.[1]
    assert.ok(token, `no end link in: ${mail.mail.text}`)
    return token
  }
  const sessionStatus = async (cookie: string) => (await request(`${auth.url}/v1/auth/session`, { cookie })).status
  const endByLink = (token: unknown) => request(`${auth.url}/v1/auth/sessions/end-by-link`, { json: { token } })

  it('mails the person once, and the link ends that one session once', async (t) => {
    const events: AuthEvent[] = []
    const subscription = await subscribe(
      { redisUrl: stack.redisUrl, group: `e2e-first-sign-in-${uniqueSuffix()}`, from: 'now' },
      async (event) => {
        if (event.type === 'sso.first_sign_in' || event.type === 'auth.logout') events.push(event)
      },
    )
    t.after(() => subscription.close())
    const { owner, workspaceId, connection } = await ownerWithSso()
    const invitationsStatus = async (cookie: string) =>
      (await request(`${invitation.url}/v1/invitations?workspaceId=${workspaceId}`, { cookie })).status

    const first = await ssoAs(connection, owner.email)
    assert.equal(await invitationsStatus(first), 200)
    const mail = await sink.waitFor(
      (received) => received.envelopeTo.includes(owner.email) && firstSignInSubject.test(received.mail.subject ?? ''),
      15_000,
    )
    assert.equal(mail.mail.subject, "Acme's identity provider signed you in to Acme")
    assert.match(mail.mail.text ?? '', new RegExp(`The identity provider of the workspace Acme \\(${idp.entityId}`))
    assert.match(mail.mail.text ?? '', /\nWhen: \d{4}-\d\d-\d\d \d\d:\d\d UTC\nFrom: \S+/)
    const token = endLinkTokenOf(mail)
    assert.ok(mail.mail.text?.includes(`${stack.webUrl}/end-session#token=${token}`))
    assert.ok(String(mail.mail.html).includes(`${stack.webUrl}/end-session#token=${token}`))

    // The same IdP again: no second announcement (nor mail).
    const second = await ssoAs(connection, owner.email)
    assert.equal(await sessionStatus(first), 200)

    const ended = await endByLink(token)
    assert.equal(ended.status, 204, JSON.stringify(ended.body))
    assert.equal(await sessionStatus(first), 401)
    // At once at the invitation service too (its cached answer about the session is dropped).
    assert.equal(await invitationsStatus(first), 401)
    // Only the session the mail was about ended.
    assert.equal(await sessionStatus(second), 200)

    // auth.logout says why; everything auth announced before it is in `events` by then (one stream, in order).
    const logout = await eventually('the ended_by_link auth.logout', () =>
      events.find((event) => event.type === 'auth.logout' && event.reason === 'ended_by_link'),
    )
    assert.equal(logout.type === 'auth.logout' && logout.userId, owner.userId)
    const announced = events.filter((event) => event.type === 'sso.first_sign_in' && event.userId === owner.userId)
    assert.equal(announced.length, 1)
    assert.equal(firstSignInMails(owner.email).length, 1)

    // Used once: the same answer as a link never issued, and nothing more ends.
    const again = await endByLink(token)
    const unknown = await endByLink('A'.repeat(43))
    assert.equal(again.status, 404)
    assert.deepEqual(again.body, unknown.body)
    assert.equal(again.body.error, 'invalid_link')
    assert.equal(await sessionStatus(second), 200)

    // Hostile bodies are refused with a typed answer, never a 5xx.
    for (const body of [{ token: 'x'.repeat(65) }, { token: 42 }, {}]) {
      const refused = await request(`${auth.url}/v1/auth/sessions/end-by-link`, { json: body })
      assert.equal(refused.status, 400, JSON.stringify(refused.body))
      assert.equal(typeof refused.body.error, 'string')
    }

    // The token reached the person's mailbox and nothing else: no server log holds it.
    for (const running of [auth, invitation]) assert.ok(!running.output().includes(token), `${running.name} logged it`)
  })

  it('mails again when the connection is re-pointed at an IdP that never signed the person in', async () => {
    const { owner, workspaceId, connection } = await ownerWithSso()
    await ssoAs(connection, owner.email)
    await sink.waitFor((mail) => firstSignInMails(owner.email).includes(mail), 15_000)

    const otherIdp = createDevIdp({ keys: await generateSigningKeys(), tenantId: crypto.randomUUID() })
    const repointed = await request(`${auth.url}/v1/workspaces/${workspaceId}/sso/idp`, {
      method: 'PUT',
      cookie: owner.cookie,
      json: { ssoUrl: otherIdp.loginUrl, entityId: otherIdp.entityId, certificate: otherIdp.certificatePem },
    })
    assert.equal(repointed.status, 200, JSON.stringify(repointed.body))
    await ssoAs(connection, owner.email, otherIdp)
    const mail = await eventually('the second first-sign-in mail', () =>
      firstSignInMails(owner.email).find((received) => received.mail.text?.includes(otherIdp.entityId)),
    )
    assert.equal(mail.mail.subject, "Acme's identity provider signed you in to Acme")
    assert.equal(firstSignInMails(owner.email).length, 2)
  })
})
