// Issue 11, acceptance 1: each attack of the issue replayed through the real HTTP routes, with auth,
// invitation, the web gateway (the origin a browser uses) and the dev IdP as separate processes,
// and the attacker's own IdP key signing responses as an admin's would. Every request goes through
// the gateway, as a browser's or a script's would.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import { type AuthEvent, type Subscription, subscribe } from '@gatehouse/events'
import { uniqueEmail, uniqueSuffix, eventually as waitFor } from '@gatehouse/testing'
import { confirmAddress } from '../support/account-proof.ts'
import { type HttpResult, request } from '../support/http-client.ts'
import { type Stack, startStack } from '../support/stack.ts'

const password = 'correct horse battery staple'

interface Person {
  email: string
  cookie: string
  userId: string
}

interface Connection {
  id: string
  sp: { entityId: string; acsUrl: string }
}

describe('a workspace’s IdP vouches for that workspace only (cross-tenant attacks, real processes)', () => {
  let stack: Stack
  let attackerIdp: DevIdp
  let honestIdp: DevIdp
  const announced: AuthEvent[] = []
  let subscription: Subscription

  before(async () => {
    ;[stack, attackerIdp, honestIdp] = await Promise.all([
      // Its IdPs are the attacker's and the honest one, in this process.
      startStack({ devIdp: false }),
      generateSigningKeys().then((keys) => createDevIdp({ keys })),
      generateSigningKeys().then((keys) => createDevIdp({ keys })),
    ])
    subscription = await subscribe(
      { redisUrl: stack.redisUrl, group: `e2e-cross-tenant-${uniqueSuffix()}`, from: 'now' },
      async (event) => {
        announced.push(event)
      },
    )
  })
  after(async () => {
    await subscription?.close()
    await stack?.stop()
  })

  const url = (path: string) => `${stack.webUrl}${path}`
  const eventually = <T>(what: string, attempt: () => Promise<T | undefined>) =>
    waitFor(what, attempt, { timeoutMs: 15_000, intervalMs: 50, describe: () => stack.output().slice(-4000) })

  async function signUp(label: string): Promise<Person> {
    const email = uniqueEmail(label)
    const response = await request(url('/v1/auth/signup'), { json: { email, password } })
    assert.equal(response.status, 201, JSON.stringify(response.body))
    const person = { email, cookie: response.cookies.session as string, userId: response.body.user.id }
    await confirmAddress(stack.proof, person)
    return person
  }

  async function workspace(owner: Person, name: string): Promise<string> {
    const created = await request(url('/v1/workspaces'), { cookie: owner.cookie, json: { name } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    return created.body.workspace.id
  }

  async function ssoFor(owner: Person, workspaceId: string, idp: DevIdp): Promise<Connection> {
    await request(url(`/v1/workspaces/${workspaceId}/sso`), { method: 'POST', cookie: owner.cookie })
    const configured = await request(url(`/v1/workspaces/${workspaceId}/sso/idp`), {
      method: 'PUT',
      cookie: owner.cookie,
      json: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
    const patched = await request(url(`/v1/workspaces/${workspaceId}/sso`), {
      method: 'PATCH',
      cookie: owner.cookie,
      json: { allowIdpInitiated: true },
    })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    return configured.body.connection
  }

  /** `person` invited into the workspace by `by`, accepted with their password, and applied by auth. */
  async function join(by: Person, workspaceId: string, person: Person, role: 'member' | 'admin' = 'member') {
    const invited = await request(url('/v1/invitations'), {
      cookie: by.cookie,
      json: { workspaceId, email: person.email, role },
    })
    assert.equal(invited.status, 201, JSON.stringify(invited.body))
    const token = new URL(await stack.invitationLink(person.email)).hash.slice('#token='.length)
    const accepted = await request(url('/v1/invitations/accept'), { cookie: person.cookie, json: { token } })
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
    await eventually('the membership', async () => {
      const session = await request(url('/v1/auth/session'), { cookie: person.cookie })
      return session.body.memberships.some(
        (membership: { workspaceId: string }) => membership.workspaceId === workspaceId,
      )
        ? true
        : undefined
    })
  }

  /**
   * What an admin who controls an IdP does, with no browser: an unsolicited response signed by that
   * IdP's key, posted to the ACS, then the confirmation posted too. Returns the session cookie.
   */
  async function impersonate(idp: DevIdp, connection: Connection, person: { email: string }, names = {}) {
    const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email: person.email, ...names } })
    const posted = await request(url(`/sso/saml/${connection.id}/acs`), { form: { SAMLResponse: samlResponse } })
    assert.equal(posted.status, 200, JSON.stringify(posted.body))
    const confirmed = await request(url(posted.body.action), { form: { confirmation: posted.body.confirmation } })
    assert.equal(confirmed.status, 302, JSON.stringify(confirmed.body))
    return confirmed.cookies.session as string
  }

  function assertReauthenticationRequired(response: HttpResult, what: string) {
    assert.equal(response.status, 403, `${what}: ${JSON.stringify(response.body)}`)
    assert.equal(response.body.error, 'reauthentication_required', what)
    assert.equal(response.body.signIn?.password, '/login', what)
  }

  it("refuses A's IdP session on B's workspace, members, SSO and invitations, on new workspaces and on accepting invitations; A's names never show in B", async () => {
    const mallory = await signUp('mallory')
    const acme = await workspace(mallory, 'Acme')
    const acmeSso = await ssoFor(mallory, acme, attackerIdp)
    const alice = await signUp('alice')
    const beta = await workspace(alice, 'Beta')
    await join(mallory, acme, alice)
    // An invitation elsewhere waiting for Alice, to try accepting it as her.
    const carol = await signUp('carol')
    const gamma = await workspace(carol, 'Gamma')
    await request(url('/v1/invitations'), {
      cookie: carol.cookie,
      json: { workspaceId: gamma, email: alice.email, role: 'member' },
    })
    const gammaToken = new URL(await stack.invitationLink(alice.email)).hash.slice('#token='.length)

    const asAlice = await impersonate(attackerIdp, acmeSso, alice, { firstName: 'Pwned by', lastName: 'Acme IT' })
    // Inside Acme, A's IdP does vouch for Alice.
    assert.equal((await request(url(`/v1/workspaces/${acme}`), { cookie: asAlice })).status, 200)

    const attempts: [string, Promise<HttpResult>][] = [
      ["B's workspace", request(url(`/v1/workspaces/${beta}`), { cookie: asAlice })],
      ["B's members", request(url(`/v1/workspaces/${beta}/members`), { cookie: asAlice })],
      ["B's SSO settings", request(url(`/v1/workspaces/${beta}/sso`), { cookie: asAlice })],
      [
        "re-pointing B's IdP",
        request(url(`/v1/workspaces/${beta}/sso/idp`), {
          method: 'PUT',
          cookie: asAlice,
          json: {
            ssoUrl: attackerIdp.loginUrl,
            entityId: attackerIdp.entityId,
            certificate: attackerIdp.certificatePem,
          },
        }),
      ],
      ["B's invitations", request(url(`/v1/invitations?workspaceId=${beta}`), { cookie: asAlice })],
      [
        'inviting oneself into B as admin',
        request(url('/v1/invitations'), {
          cookie: asAlice,
          json: { workspaceId: beta, email: mallory.email, role: 'admin' },
        }),
      ],
      ['creating a workspace', request(url('/v1/workspaces'), { cookie: asAlice, json: { name: 'Mine' } })],
      [
        'accepting an invitation',
        request(url('/v1/invitations/accept'), { cookie: asAlice, json: { token: gammaToken } }),
      ],
    ]
    for (const [what, attempt] of attempts) assertReauthenticationRequired(await attempt, what)

    // The IdP's names are Alice's names in Acme only: Beta and her account show her own.
    const inBeta = await request(url(`/v1/workspaces/${beta}/members`), { cookie: alice.cookie })
    assert.doesNotMatch(JSON.stringify(inBeta.body), /Pwned/)
    const account = await request(url('/v1/auth/session'), { cookie: alice.cookie })
    assert.doesNotMatch(JSON.stringify(account.body.user), /Pwned/)
    const inAcme = await request(url(`/v1/workspaces/${acme}/members`), { cookie: mallory.cookie })
    assert.match(JSON.stringify(inAcme.body), /Pwned by/)
  })

  it("refuses an admin's IdP change without a fresh password, tells the owner, and never yields the owner's other workspaces", async () => {
    const oscar = await signUp('oscar')
    const org = await workspace(oscar, 'Org')
    const orgSso = await ssoFor(oscar, org, honestIdp)
    const privateWorkspace = await workspace(oscar, 'Private')
    const mallory = await signUp('mallory')
    await join(oscar, org, mallory, 'admin')

    const repoint = () =>
      request(url(`/v1/workspaces/${org}/sso/idp`), {
        method: 'PUT',
        cookie: mallory.cookie,
        json: { ssoUrl: attackerIdp.loginUrl, entityId: attackerIdp.entityId, certificate: attackerIdp.certificatePem },
      })
    const refused = await repoint()
    assert.equal(refused.status, 403, JSON.stringify(refused.body))
    assert.equal(refused.body.error, 'password_confirmation_required')

    // With her own fresh password the admin may; the owner hears of it.
    const fresh = await request(url('/v1/auth/reauthenticate'), { cookie: mallory.cookie, json: { password } })
    assert.equal(fresh.status, 204)
    assert.equal((await repoint()).status, 200)
    const notice = await eventually('the owners to be told', async () =>
      announced.find(
        (event) =>
          event.type === 'sso.connection.changed' && event.connectionId === orgSso.id && event.by === mallory.userId,
      ),
    )
    assert.ok(notice.type === 'sso.connection.changed')
    assert.deepEqual(notice.notify, [oscar.email])

    // Signed in as the owner by her own key, she reaches Org only.
    const asOscar = await impersonate(attackerIdp, orgSso, oscar)
    assert.equal((await request(url(`/v1/workspaces/${org}`), { cookie: asOscar })).status, 200)
    assertReauthenticationRequired(
      await request(url(`/v1/workspaces/${privateWorkspace}`), { cookie: asOscar }),
      'the owner’s other workspace',
    )
    assertReauthenticationRequired(
      await request(url(`/v1/invitations?workspaceId=${privateWorkspace}`), { cookie: asOscar }),
      'the owner’s other invitations',
    )
    assertReauthenticationRequired(
      await request(url('/v1/workspaces'), { cookie: asOscar, json: { name: 'Mine' } }),
      'a new workspace',
    )
  })

  it('stops the sessions a connection opened within a second of it being turned off or re-pointed, in auth and in invitation', async () => {
    for (const change of ['turned off', 're-pointed'] as const) {
      const owner = await signUp('owner')
      const acme = await workspace(owner, 'Acme')
      const acmeSso = await ssoFor(owner, acme, honestIdp)
      const member = await signUp('member')
      await join(owner, acme, member, 'admin')
      const viaSso = await impersonate(honestIdp, acmeSso, member)
      // Both services know the session (the invitation service's answer is now cached).
      assert.equal((await request(url(`/v1/workspaces/${acme}`), { cookie: viaSso })).status, 200)
      assert.equal((await request(url(`/v1/invitations?workspaceId=${acme}`), { cookie: viaSso })).status, 200)

      const changed =
        change === 'turned off'
          ? await request(url(`/v1/workspaces/${acme}/sso`), {
              method: 'PATCH',
              cookie: owner.cookie,
              json: { enabled: false },
            })
          : await request(url(`/v1/workspaces/${acme}/sso/idp`), {
              method: 'PUT',
              cookie: owner.cookie,
              json: {
                ssoUrl: attackerIdp.loginUrl,
                entityId: attackerIdp.entityId,
                certificate: attackerIdp.certificatePem,
              },
            })
      assert.equal(changed.status, 200, JSON.stringify(changed.body))
      const changedAt = Date.now()
      // Auth ends them in the change's own transaction.
      assert.equal((await request(url(`/v1/workspaces/${acme}`), { cookie: viaSso })).status, 401, change)
      // The invitation service may reuse an answer briefly; a second after the change it may not.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, changedAt + 1000 - Date.now())))
      assert.equal((await request(url(`/v1/invitations?workspaceId=${acme}`), { cookie: viaSso })).status, 401, change)
      const ended = await eventually('the logout event', async () =>
        announced.find((event) => event.type === 'auth.logout' && event.userId === member.userId),
      )
      assert.ok(ended.type === 'auth.logout')
      assert.equal(ended.reason, 'connection_changed')
      assert.equal(ended.method, 'saml')
    }
  })

  it("does not switch a browser's session when another site auto-submits an unsolicited response; the confirmation only counts from our origin", async () => {
    const mallory = await signUp('mallory')
    const acme = await workspace(mallory, 'Acme')
    const acmeSso = await ssoFor(mallory, acme, attackerIdp)
    const victim = await signUp('victim')
    const forged = attackerIdp.responseBase64({ sp: acmeSso.sp, user: { email: mallory.email } })
    const page = await request(url(`/sso/saml/${acmeSso.id}/acs`), {
      cookie: victim.cookie,
      accept: 'text/html',
      form: { SAMLResponse: forged },
    })
    assert.equal(page.status, 200)
    assert.equal(page.cookies.session, undefined)
    assert.match(page.body, /Continue as/)
    const session = await request(url('/v1/auth/session'), { cookie: victim.cookie })
    assert.equal(session.body.user.id, victim.userId)
  })
})
