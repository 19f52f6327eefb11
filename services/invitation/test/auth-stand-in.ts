// A stand-in of the auth service for the invitation service's tests: the internal routes the
// invitation service calls, declared by the same shared schemas (@gatehouse/server/internal)
// behind the same internal-token check, answering from tables in memory that tests fill directly;
// what auth announces that the invitation service listens to (ended sessions on Redis,
// `membership.removed` on the auth stream), built from the shared schemas; and the membership an
// `invitation.accepted` event grants, applied when a test hands it the event. auth-contract.test.ts runs the same cases against this and
// the real auth and requires identical answers, so this cannot drift from auth unseen.
import { randomBytes, randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { authEventsStream, createEvent, type InvitationAccepted, publishToStream } from '@gatehouse/events'
import { normalizeEmail } from '@gatehouse/server/email'
import { defineError, errors } from '@gatehouse/server/errors'
import { createApp, routeAccess } from '@gatehouse/server/http'
import {
  type Authentication,
  InternalRefusal,
  IntrospectionAnswer,
  IntrospectionRequest,
  internalTokenCheck,
  MembershipRemovalRequest,
  membershipRemovalRefusals,
  parseInternalRefusal,
  parseIntrospectionAnswer,
  publishRevokedSessions,
  reauthenticationRequired,
  type SignIn,
  sessionTokenHash,
} from '@gatehouse/server/internal'
import { createRedis } from '@gatehouse/server/redis'
import { inProcessPressureLimits, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import { Type } from 'typebox'

type Role = 'owner' | 'admin' | 'member'

export interface StandInUser {
  id: string
  email: string
  createdVia: 'password'
  createdAt: Date
  emailConfirmed: boolean
}

interface SessionRow {
  userId: string
  method: 'password' | 'saml'
  workspaceId?: string
  connectionId?: string
  ended: boolean
  expired: boolean
}

interface WorkspaceRow {
  id: string
  name: string
  /** The workspace's SSO connection: `enabled` and configured with an IdP, and whether it is required. */
  sso?: { connectionId: string; enabled: boolean; requireSso: boolean }
}

/** A person signed in at the stand-in: their account, the session's token and the cookie naming it. */
export interface SignedInPerson {
  user: { id: string; email: string }
  email: string
  token: string
  cookie: string
}

// Auth's answers, word for word (auth-contract.test.ts holds this to auth's own).
const refusals = {
  noWorkspace: () => errors.notFound('No such workspace.'),
  notMember: () => errors.forbidden('You are not a member of this workspace.'),
  notAdmin: () => errors.forbidden('Only a workspace owner or admin can do this.'),
  memberNotFound: defineError(404, 'member_not_found', 'This person is not a member of this workspace.'),
  lastOwner: defineError(
    409,
    'last_owner',
    'A workspace always keeps an owner. Transfer the ownership to another member first.',
  ),
  roleNotManageable: defineError(
    403,
    'role_not_manageable',
    'Only an owner can remove or change an owner or an admin. Admins manage members.',
  ),
  workspaceReauthentication: (sso: { ssoConnectionId: string | null; ssoRequired: boolean }) =>
    reauthenticationRequired(
      sso.ssoRequired
        ? 'This workspace requires its own SSO. Sign in with this workspace’s SSO.'
        : 'Your current sign-in does not reach this workspace. Sign in with your password or with this workspace’s SSO.',
      signInFor(sso),
    ),
}

function signInFor(sso: { ssoConnectionId: string | null; ssoRequired: boolean }): SignIn {
  return {
    ...(sso.ssoRequired ? {} : { password: '/login' }),
    ...(sso.ssoConnectionId ? { sso: `/sso/saml/${sso.ssoConnectionId}/login` } : {}),
  }
}

const authenticationView = (row: SessionRow): Authentication =>
  row.method === 'saml' && row.workspaceId && row.connectionId
    ? { method: 'saml', workspaceId: row.workspaceId, connectionId: row.connectionId }
    : { method: 'password' }

const maximumTokensPerCookie = 8
const tokenPattern = /^[\w-]{43}$/

export type AuthStandIn = Awaited<ReturnType<typeof startAuthStandIn>>

/** Starts the stand-in, listening on a random port, accepting `internalToken`, announcing on `redisUrl`. */
export async function startAuthStandIn(options: { internalToken: string; redisUrl: string }) {
  const users = new Map<string, StandInUser>()
  const sessions = new Map<string, SessionRow>()
  const workspaces = new Map<string, WorkspaceRow>()
  // By workspace id, then user id.
  const memberships = new Map<string, Map<string, { role: Role; ssoAllowed: boolean }>>()
  const withdrawnInvitations = new Set<string>()
  const processedEvents = new Set<string>()
  const log = { info: () => {}, warn: () => {}, error: () => {} }
  // Waits for the connection: what the stand-in announces, tests wait for.
  const redis = createRedis(options.redisUrl, { role: 'waiting', name: 'auth-stand-in', log })

  const membersOf = (workspaceId: string) => {
    const members = memberships.get(workspaceId) ?? new Map<string, { role: Role; ssoAllowed: boolean }>()
    memberships.set(workspaceId, members)
    return members
  }

  /** The live authentications a cookie names, all of the person of the first live one (as auth's findByCookie). */
  function findByCookie(cookieValue: string) {
    if (cookieValue.length > 1024) return undefined
    const found = cookieValue
      .split('.')
      .filter((token) => tokenPattern.test(token))
      .slice(0, maximumTokensPerCookie)
      .flatMap((token) => {
        const session = sessions.get(sessionTokenHash(token))
        return session && !session.ended && !session.expired ? [session] : []
      })
    const user = found[0] && users.get(found[0].userId)
    if (!user) return undefined
    return { user, authentications: found.filter((session) => session.userId === user.id) }
  }

  type SignedIn = NonNullable<ReturnType<typeof findByCookie>>

  function workspaceAccess(workspaceId: string, userId: string) {
    const workspace = workspaces.get(workspaceId)
    if (!workspace) return undefined
    const membership = memberships.get(workspaceId)?.get(userId)
    const enabled = workspace.sso?.enabled ?? false
    return {
      workspace,
      role: membership?.role ?? null,
      ssoConnectionId: membership?.ssoAllowed && enabled ? (workspace.sso?.connectionId ?? null) : null,
      ssoRequired: enabled && (workspace.sso?.requireSso ?? false),
    }
  }

  function workspaceAuthentication(signedIn: SignedIn, workspaceId: string, ssoRequired: boolean) {
    const viaSso = signedIn.authentications.find((row) => row.method === 'saml' && row.workspaceId === workspaceId)
    if (viaSso) return viaSso
    const password = signedIn.authentications.find((row) => row.method === 'password')
    return password && !ssoRequired ? password : undefined
  }

  function introspect(request: IntrospectionRequest): IntrospectionAnswer | undefined {
    const signedIn = findByCookie(request.sessionToken)
    if (!signedIn) return undefined
    const { user } = signedIn
    const account = signedIn.authentications.find((row) => row.method === 'password')
    let workspace: IntrospectionAnswer['workspace'] = null
    const access = request.workspaceId ? workspaceAccess(request.workspaceId, user.id) : undefined
    if (access) {
      const email = (request.email && normalizeEmail(request.email)) || undefined
      const reachedBy = access.role ? workspaceAuthentication(signedIn, access.workspace.id, access.ssoRequired) : null
      workspace = {
        id: access.workspace.id,
        name: access.workspace.name,
        role: access.role,
        emailIsMember:
          email === undefined
            ? null
            : [...membersOf(access.workspace.id).keys()].some((userId) => users.get(userId)?.email === email),
        reachedBy: reachedBy ? authenticationView(reachedBy) : null,
        signIn: signInFor(access),
      }
    }
    return {
      user: {
        id: user.id,
        email: user.email,
        createdVia: user.createdVia,
        createdAt: user.createdAt.toISOString(),
        emailConfirmed: user.emailConfirmed,
      },
      authentications: signedIn.authentications.map(authenticationView),
      account: account ? authenticationView(account) : null,
      workspace,
    }
  }

  /** Auth's DELETE-a-member rules, as its `/internal/memberships/remove` applies them. */
  async function removeMembership(request: MembershipRemovalRequest): Promise<void> {
    const signedIn = findByCookie(request.sessionToken)
    if (!signedIn) throw errors.unauthenticated()
    const { workspaceId, userId, invitationId } = request
    const access = workspaceAccess(workspaceId, signedIn.user.id)
    if (!access) throw refusals.noWorkspace()
    if (!access.role) throw refusals.notMember()
    if (!workspaceAuthentication(signedIn, workspaceId, access.ssoRequired)) {
      throw refusals.workspaceReauthentication(access)
    }
    if (access.role === 'member') throw refusals.notAdmin()
    const members = membersOf(workspaceId)
    const actorRole = access.role
    if (invitationId !== undefined) {
      withdrawnInvitations.add(invitationId)
      if (!members.has(userId)) return
    }
    const member = members.get(userId)
    if (!member) throw refusals.memberNotFound()
    if (userId !== signedIn.user.id && actorRole !== 'owner' && member.role !== 'member') {
      throw refusals.roleNotManageable()
    }
    const owners = [...members.values()].filter((candidate) => candidate.role === 'owner').length
    if (member.role === 'owner' && owners === 1) throw refusals.lastOwner()
    members.delete(userId)
    // The sessions the workspace's IdP opened for the person end with the membership.
    const ended = [...sessions.entries()].filter(
      ([, row]) => row.userId === userId && row.workspaceId === workspaceId && !row.ended && !row.expired,
    )
    for (const [, row] of ended) row.ended = true
    const acting = workspaceAuthentication(signedIn, workspaceId, access.ssoRequired)
    await publishToStream(redis, authEventsStream, [
      createEvent('membership.removed', {
        workspaceId,
        workspaceName: access.workspace.name.slice(0, 200),
        userId,
        email: users.get(userId)?.email ?? '',
        role: member.role,
        by: signedIn.user.id,
        actingSession:
          acting?.method === 'saml' && acting.workspaceId
            ? { method: 'saml', workspaceId: acting.workspaceId }
            : { method: 'password' },
      }),
    ])
    if (ended.length > 0)
      await publishRevokedSessions(
        redis,
        ended.map(([hash]) => hash),
        log,
      )
  }

  const app = await createApp({
    service: 'auth-stand-in',
    publicUrl: new URL('http://localhost:3000'),
    readiness: {},
    pressureLimits: inProcessPressureLimits,
  })
  const checkInternalToken = internalTokenCheck(options.internalToken)
  await app.register(routeAccess, {
    async enforce(request, access) {
      if (access !== 'internal') throw new Error(`the stand-in serves internal routes only, not ${String(access)}`)
      checkInternalToken(request)
    },
  })
  // What leaves is what the contract allows: an answer that is not one fails the test that caused it.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.url.startsWith('/internal/') || reply.statusCode === 204) return payload
    const body: unknown = JSON.parse(String(payload))
    const allowed =
      reply.statusCode === 200 && request.url === '/internal/introspect'
        ? parseIntrospectionAnswer(body)
        : parseInternalRefusal(body)
    if (!allowed) throw new Error(`the stand-in answered outside the contract: ${reply.statusCode} ${payload}`)
    return payload
  })
  const internalRoutes: FastifyPluginAsyncTypebox = async (routes) => {
    routes.post(
      '/internal/introspect',
      {
        config: { access: 'internal' },
        schema: { body: IntrospectionRequest, response: { 200: IntrospectionAnswer, 401: InternalRefusal } },
      },
      async (request) => {
        const answer = introspect(request.body)
        if (!answer) throw errors.unauthenticated()
        return answer
      },
    )
    routes.post(
      '/internal/memberships/remove',
      {
        config: { access: 'internal' },
        schema: {
          body: MembershipRemovalRequest,
          response: {
            204: Type.Null(),
            ...Object.fromEntries(membershipRemovalRefusals.map((status) => [status, InternalRefusal])),
          },
        },
      },
      async (request, reply) => {
        await removeMembership(request.body)
        return reply.status(204).send(null)
      },
    )
  }
  await app.register(internalRoutes)
  await app.listen({ host: '127.0.0.1', port: 0 })

  function openSession(user: StandInUser, values: Pick<SessionRow, 'method' | 'workspaceId' | 'connectionId'>) {
    const token = randomBytes(32).toString('base64url')
    sessions.set(sessionTokenHash(token), { userId: user.id, ...values, ended: false, expired: false })
    return token
  }

  function sessionOf(token: string): SessionRow {
    const session = sessions.get(sessionTokenHash(token))
    if (!session) throw new Error('the stand-in issued no such session')
    return session
  }

  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,

    /** An account (password, address proven unless said otherwise) signed in with its password. */
    signUp(
      email: string = uniqueEmail(),
      details: { emailConfirmed?: boolean; createdAt?: Date } = {},
    ): SignedInPerson {
      const user: StandInUser = {
        id: randomUUID(),
        email: normalizeEmail(email) ?? email.toLowerCase(),
        createdVia: 'password',
        createdAt: details.createdAt ?? new Date(),
        emailConfirmed: details.emailConfirmed ?? true,
      }
      users.set(user.id, user)
      const token = openSession(user, { method: 'password' })
      return { user: { id: user.id, email: user.email }, email: user.email, token, cookie: `session=${token}` }
    },

    /** A workspace the person owns. */
    createWorkspace(owner: SignedInPerson, name = `Acme ${uniqueSuffix()}`) {
      const workspace: WorkspaceRow = { id: randomUUID(), name }
      workspaces.set(workspace.id, workspace)
      membersOf(workspace.id).set(owner.user.id, { role: 'owner', ssoAllowed: true })
      return { id: workspace.id, name }
    },

    /** Makes the person a member (SSO allowed, as an accepted invitation does unless said otherwise). */
    addMember(workspaceId: string, person: SignedInPerson, role: Role = 'member', ssoAllowed = true) {
      membersOf(workspaceId).set(person.user.id, { role, ssoAllowed })
    },

    /** Turns on the workspace's SSO with an IdP configured; returns the connection's id. */
    turnOnSso(workspaceId: string, settings: { requireSso?: boolean } = {}) {
      const workspace = workspaces.get(workspaceId)
      if (!workspace) throw new Error('no such workspace at the stand-in')
      workspace.sso = { connectionId: randomUUID(), enabled: true, requireSso: settings.requireSso ?? false }
      return workspace.sso.connectionId
    },

    /** A sign-in through the workspace's IdP; the cookie names it alone, or before `alongside`'s tokens. */
    signInWithSso(person: SignedInPerson, workspaceId: string, alongside: string[] = []) {
      const connectionId = workspaces.get(workspaceId)?.sso?.connectionId
      if (!connectionId) throw new Error('the workspace has no SSO at the stand-in')
      const user = users.get(person.user.id)
      if (!user) throw new Error('no such user at the stand-in')
      const token = openSession(user, { method: 'saml', workspaceId, connectionId })
      return { token, cookie: `session=${[token, ...alongside].join('.')}` }
    },

    /** Signs the session out, announcing it on Redis as auth does before it answers. */
    async endSession(token: string) {
      sessionOf(token).ended = true
      await publishRevokedSessions(redis, [sessionTokenHash(token)], log)
    },

    /** Lets the session reach its end of life (nothing is announced: it is simply no longer live). */
    expireSession(token: string) {
      sessionOf(token).expired = true
    },

    /** Moves the account's creation back (an account older than a day may send more invitations). */
    setCreatedAt(userId: string, createdAt: Date) {
      const user = users.get(userId)
      if (user) user.createdAt = createdAt
    },

    /**
     * What auth does with an `invitation.accepted` event (its queue consumer): the invited password
     * account of that address becomes a member with SSO allowed, once per event, unless the
     * invitation was withdrawn first. Tests hand it the event the invitation service wrote.
     */
    grant(event: InvitationAccepted) {
      if (processedEvents.has(event.id)) return
      processedEvents.add(event.id)
      const user = users.get(event.userId)
      const eligible =
        user?.email === event.email.toLowerCase() &&
        workspaces.has(event.workspaceId) &&
        !withdrawnInvitations.has(event.invitationId)
      if (!eligible) return
      const members = membersOf(event.workspaceId)
      members.set(event.userId, { role: members.get(event.userId)?.role ?? event.role, ssoAllowed: true })
    },

    /** The workspaces the person belongs to, with role and whether SSO is allowed. */
    membershipsOf(userId: string) {
      return [...memberships.entries()].flatMap(([workspaceId, members]) => {
        const membership = members.get(userId)
        return membership ? [{ workspaceId, ...membership }] : []
      })
    },

    async close() {
      await app.close()
      redis.disconnect()
    },
  }
}
