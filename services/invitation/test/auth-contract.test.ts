// The stand-in of auth (auth-stand-in.ts) that the invitation service's tests run against is held
// to the real auth here: the same cases, every internal call the invitation service makes, against
// both, with identical statuses and bodies (ids and times named, not compared by value), and what
// each announces on Redis that the invitation service hears (ended sessions, `membership.removed`).
// This is the one invitation test that starts a real auth; when either side changes, it fails.
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { before, describe, it } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import * as authSchema from '@gatehouse/auth/src/db/schema.ts'
import {
  createWorkspace,
  invitationAccepted,
  personInTwoWorkspaces,
  signUp,
  signUpUnproven,
  startAuthApp,
} from '@gatehouse/auth/test/harness.ts'
import { authEventsStream, type InvitationAccepted } from '@gatehouse/events'
import {
  internalJsonPoster,
  type MembershipRemovalRequest,
  parseRevokedSessions,
  sessionTokenHash,
} from '@gatehouse/server/internal'
import { createRedis } from '@gatehouse/server/redis'
import { revokedSessionsChannel } from '@gatehouse/server/redis-keys'
import { eventually, uniqueEmail } from '@gatehouse/testing'
import { eq } from 'drizzle-orm'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import { startAuthStandIn } from './auth-stand-in.ts'

const internalToken = 'invitation-contract-internal-token-0123456789abcdef'
const redisUrl = await unusedRedisDatabaseUrl()

interface Person {
  user: { id: string; email: string }
  email: string
  cookie: string
}

/** What a case needs of an auth, real or stand-in, to set up the people and workspaces it asks about. */
interface AuthUnderTest {
  url: string
  signUp(email?: string, proven?: boolean): Promise<Person>
  createWorkspace(owner: Person, name: string): Promise<{ id: string }>
  /** Makes the person a member by an accepted invitation's event. */
  join(workspaceId: string, person: Person, role: 'member' | 'admin'): Promise<void>
  /** A person invited into Acme (with SSO), owning Beta, signed in through Acme's IdP. */
  personInTwoWorkspaces(): Promise<{ acmeId: string; person: Person; betaId: string; ssoCookie: string }>
  signOut(person: Person): Promise<void>
  expire(person: Person): Promise<void>
  /** Applies `invitation.accepted` as auth's queue consumer does. */
  grant(event: InvitationAccepted): Promise<void>
  close(): Promise<void>
}

const tokenOf = (cookie: string) => cookie.slice('session='.length)

async function realAuth(): Promise<AuthUnderTest> {
  const auth = await startAuthApp({ INTERNAL_TOKEN: internalToken, REDIS_URL: redisUrl })
  await auth.app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url: `http://127.0.0.1:${(auth.app.server.address() as AddressInfo).port}`,
    signUp: (email, proven = true) => (proven ? signUp(auth.app, email) : signUpUnproven(auth.app, email)),
    createWorkspace: (owner, name) => createWorkspace(auth.app, owner.cookie, name),
    async join(workspaceId, person, role) {
      const granted = await auth.app.workspaces.grantMembershipFromInvitation(
        invitationAccepted(workspaceId, { userId: person.user.id, email: person.email }, role),
      )
      assert.equal(granted, 'granted')
    },
    async personInTwoWorkspaces() {
      const { acme, person, beta, ssoCookie } = await personInTwoWorkspaces(auth.app)
      return { acmeId: acme.workspace.id, person, betaId: beta.id, ssoCookie }
    },
    async signOut(person) {
      const response = await auth.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: { cookie: person.cookie },
      })
      assert.equal(response.statusCode, 204, response.body)
    },
    async expire(person) {
      await auth.db
        .update(authSchema.sessions)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(authSchema.sessions.tokenHash, sessionTokenHash(tokenOf(person.cookie))))
    },
    async grant(event) {
      await auth.app.workspaces.grantMembershipFromInvitation(event)
    },
    close: () => auth.close(),
  }
}

async function standIn(): Promise<AuthUnderTest> {
  const auth = await startAuthStandIn({ internalToken, redisUrl })
  const people = new Map<string, ReturnType<typeof auth.signUp>>()
  const signedUp = (email?: string, proven = true) => {
    const person = auth.signUp(email, { emailConfirmed: proven })
    people.set(person.user.id, person)
    return person
  }
  const known = (person: Person) => {
    const found = people.get(person.user.id)
    if (!found) throw new Error('not a person of this stand-in')
    return found
  }
  return {
    url: auth.url,
    signUp: async (email, proven) => signedUp(email, proven),
    createWorkspace: async (owner, name) => auth.createWorkspace(known(owner), name),
    join: async (workspaceId, person, role) => auth.addMember(workspaceId, known(person), role),
    async personInTwoWorkspaces() {
      const acmeOwner = signedUp()
      const acme = auth.createWorkspace(acmeOwner, 'Acme')
      auth.turnOnSso(acme.id)
      const person = signedUp()
      const beta = auth.createWorkspace(person, 'Beta')
      auth.addMember(acme.id, person, 'member')
      const { cookie: ssoCookie } = auth.signInWithSso(person, acme.id)
      return { acmeId: acme.id, person, betaId: beta.id, ssoCookie }
    },
    signOut: (person) => auth.endSession(known(person).token),
    expire: async (person) => auth.expireSession(known(person).token),
    grant: async (event) => auth.grant(event),
    close: () => auth.close(),
  }
}

interface Answer {
  status: number
  body: unknown
}

/**
 * Every case, run against one auth: what each internal call answered, ids replaced by the names
 * the case gave them (any other id, and every time, by a placeholder).
 */
async function runCases(auth: AuthUnderTest): Promise<Record<string, Answer>> {
  const names = new Map<string, string>()
  const name = (id: string, label: string) => {
    names.set(id, label)
    return id
  }
  const emails = new Map<string, string>()
  const namePerson = (person: Person, label: string) => {
    name(person.user.id, label)
    emails.set(person.email.toLowerCase(), `${label} address`)
  }
  const call = (path: string, bearer = internalToken) => {
    const post = internalJsonPoster(new URL(path, auth.url), bearer, 5_000)
    return async (payload: unknown): Promise<Answer> => {
      const { status, body } = await post(payload)
      return { status, body: body ? normalized(body) : null }
    }
  }
  /** The JSON text with ids and addresses named, and times replaced, parsed. */
  const normalized = (body: string): unknown => {
    const named = body.replace(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      (id) => names.get(id) ?? '<id>',
    )
    const addressed = [...emails].reduce((text, [email, label]) => text.replaceAll(email, label), named)
    return JSON.parse(addressed.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>'))
  }
  const introspect = call('/internal/introspect')
  const remove = call('/internal/memberships/remove')
  const answers: Record<string, Answer> = {}
  // What the auth announces on Redis: the sessions it ended, and its stream of events.
  const revocations: string[][] = []
  const subscriber = createRedis(redisUrl, { role: 'waiting', name: 'contract-revocations' })
  subscriber.on('message', (_channel: string, message: string) => revocations.push(parseRevokedSessions(message)))
  await subscriber.subscribe(revokedSessionsChannel)
  const streamReader = createRedis(redisUrl, { role: 'waiting', name: 'contract-stream' })
  const announcedRemoval = (userId: string) =>
    eventually('membership.removed on the auth stream', async () => {
      const entries = await streamReader.xrevrange(authEventsStream, '+', '-', 'COUNT', 500)
      const events = entries.map(([, fields]) => fields[fields.indexOf('event') + 1] ?? '{}')
      const removal = events.find((json) => {
        const event = JSON.parse(json)
        return event.type === 'membership.removed' && event.workspaceId === workspaceId && event.userId === userId
      })
      if (!removal) return undefined
      const { id: _id, occurredAt: _at, ...announced } = JSON.parse(removal)
      return { status: 0, body: normalized(JSON.stringify(announced)) }
    })

  const owner = await auth.signUp()
  namePerson(owner, '<owner>')
  const workspaceId = name((await auth.createWorkspace(owner, 'Contract Co')).id, '<workspace>')
  const admin = await auth.signUp()
  namePerson(admin, '<admin>')
  await auth.join(workspaceId, admin, 'admin')
  const otherAdmin = await auth.signUp()
  namePerson(otherAdmin, '<other admin>')
  await auth.join(workspaceId, otherAdmin, 'admin')
  const member = await auth.signUp()
  namePerson(member, '<member>')
  await auth.join(workspaceId, member, 'member')
  const stranger = await auth.signUp(uniqueEmail('Stranger'))
  namePerson(stranger, '<stranger>')
  const unproven = await auth.signUp(undefined, false)
  namePerson(unproven, '<unproven>')
  const sessionToken = (person: Person) => tokenOf(person.cookie)

  answers['a password session'] = await introspect({ sessionToken: sessionToken(owner) })
  answers['an unproven account'] = await introspect({ sessionToken: sessionToken(unproven) })
  answers['the owner about the workspace, and a member address'] = await introspect({
    sessionToken: sessionToken(owner),
    workspaceId,
    email: member.email.toUpperCase(),
  })
  answers['the owner about the workspace, and an address of no member'] = await introspect({
    sessionToken: sessionToken(owner),
    workspaceId,
    email: stranger.email,
  })
  answers['the owner about the workspace, and no address at all'] = await introspect({
    sessionToken: sessionToken(owner),
    workspaceId,
    email: 'not an address',
  })
  answers['a member about the workspace'] = await introspect({ sessionToken: sessionToken(member), workspaceId })
  answers['a stranger about the workspace'] = await introspect({ sessionToken: sessionToken(stranger), workspaceId })
  answers['about a workspace that does not exist'] = await introspect({
    sessionToken: sessionToken(owner),
    workspaceId: randomUUID(),
  })
  answers['a session never issued'] = await introspect({ sessionToken: randomBytes(32).toString('base64url') })
  answers['a cookie that names no token'] = await introspect({ sessionToken: 'not-a-token' })
  answers['a cookie longer than any'] = await introspect({ sessionToken: 'a'.repeat(1025) })
  answers['a workspace id that is not one'] = await introspect({ sessionToken: sessionToken(owner), workspaceId: 'W' })
  answers['no internal token'] = await call('/internal/introspect', '')({ sessionToken: sessionToken(owner) })
  answers['a wrong internal token'] = await call(
    '/internal/introspect',
    `${internalToken}x`,
  )({
    sessionToken: sessionToken(owner),
  })

  const sso = await auth.personInTwoWorkspaces()
  name(sso.acmeId, '<acme>')
  name(sso.betaId, '<beta>')
  namePerson(sso.person, '<person>')
  answers['a sign-in through Acme’s IdP about Acme'] = await introspect({
    sessionToken: sessionToken({ ...sso.person, cookie: sso.ssoCookie }),
    workspaceId: sso.acmeId,
  })
  answers['a sign-in through Acme’s IdP about Beta'] = await introspect({
    sessionToken: sessionToken({ ...sso.person, cookie: sso.ssoCookie }),
    workspaceId: sso.betaId,
  })
  const both = `${tokenOf(sso.ssoCookie)}.${sessionToken(sso.person)}`
  answers['both sign-ins about Beta'] = await introspect({ sessionToken: both, workspaceId: sso.betaId })
  answers['a sign-in through Acme’s IdP removing from Beta'] = await remove({
    sessionToken: tokenOf(sso.ssoCookie),
    workspaceId: sso.betaId,
    userId: owner.user.id,
  })

  // Who removes whom, in this order (the removals that succeed change what later cases see).
  const removals: [string, Person | 'nobody', string, Partial<MembershipRemovalRequest>?][] = [
    ['an admin removing another admin', admin, otherAdmin.user.id],
    ['a member removing someone', member, admin.user.id],
    ['a stranger removing someone', stranger, member.user.id],
    ['removing from a workspace that does not exist', owner, member.user.id, { workspaceId: randomUUID() }],
    ['removing someone who is not a member', owner, stranger.user.id],
    ['removing the last owner', owner, owner.user.id],
    ['removing without a session', 'nobody', member.user.id],
    ['removing with a user id that is not one', owner, 'nobody'],
  ]
  for (const [name, actor, userId, overrides] of removals) {
    const token = actor === 'nobody' ? randomBytes(32).toString('base64url') : sessionToken(actor)
    answers[name] = await remove({ sessionToken: token, workspaceId, userId, ...overrides })
  }
  answers['removing with a wrong internal token'] = await call(
    '/internal/memberships/remove',
    'wrong',
  )({
    sessionToken: sessionToken(owner),
    workspaceId,
    userId: member.user.id,
  })
  answers['an admin removing a member'] = await remove({
    sessionToken: sessionToken(admin),
    workspaceId,
    userId: member.user.id,
    ip: '192.0.2.1',
  })
  answers['what removing a member announces'] = await announcedRemoval(member.user.id)
  answers['the removed member about the workspace'] = await introspect({
    sessionToken: sessionToken(member),
    workspaceId,
  })
  answers['removing the same member again'] = await remove({
    sessionToken: sessionToken(owner),
    workspaceId,
    userId: member.user.id,
  })
  answers['withdrawing an accepted invitation whose membership is not there yet'] = await remove({
    sessionToken: sessionToken(owner),
    workspaceId,
    userId: stranger.user.id,
    invitationId: randomUUID(),
  })

  const invited = await auth.signUp()
  namePerson(invited, '<invited>')
  const accepted = invitationAccepted(workspaceId, { userId: invited.user.id, email: invited.email }, 'admin')
  await auth.grant(accepted)
  await auth.grant(accepted)
  const withdrawn = await auth.signUp()
  namePerson(withdrawn, '<withdrawn>')
  const withdrawnInvitation = invitationAccepted(workspaceId, { userId: withdrawn.user.id, email: withdrawn.email })
  answers['withdrawing an accepted invitation before its event'] = await remove({
    sessionToken: sessionToken(owner),
    workspaceId,
    userId: withdrawn.user.id,
    invitationId: withdrawnInvitation.invitationId,
  })
  await auth.grant(withdrawnInvitation)
  answers['a person whose accepted invitation was withdrawn'] = await introspect({
    sessionToken: sessionToken(withdrawn),
    workspaceId,
  })
  answers['a person granted admin by an accepted invitation'] = await introspect({
    sessionToken: sessionToken(invited),
    workspaceId,
  })

  await auth.signOut(admin)
  const adminSession = sessionTokenHash(sessionToken(admin))
  answers['what a sign-out announces'] = await eventually('the ended session announced', async () => {
    const announcement = revocations.find((hashes) => hashes.includes(adminSession))
    return (
      announcement && { status: 0, body: announcement.map((hash) => (hash === adminSession ? '<admin>' : '<other>')) }
    )
  })
  answers['a signed-out session'] = await introspect({ sessionToken: sessionToken(admin) })
  await auth.expire(otherAdmin)
  answers['an expired session'] = await introspect({ sessionToken: sessionToken(otherAdmin) })
  subscriber.disconnect()
  streamReader.disconnect()
  return answers
}

describe('the stand-in of auth answers every internal call as auth does', () => {
  let real: Record<string, Answer>
  let standing: Record<string, Answer>
  before(async () => {
    const auth = await realAuth()
    try {
      real = await runCases(auth)
    } finally {
      await auth.close()
    }
    const stand = await standIn()
    try {
      standing = await runCases(stand)
    } finally {
      await stand.close()
    }
  })

  it('gives the same status and body in every case', () => {
    assert.ok(Object.keys(real).length > 30)
    const differing = Object.keys(real).filter((name) => !isDeepStrictEqual(standing[name], real[name]))
    assert.deepEqual(
      differing.map((name) => ({ name, auth: real[name], standIn: standing[name] })),
      [],
    )
  })
})
