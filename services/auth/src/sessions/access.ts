import { errors } from '@gatehouse/server/errors'
import { type RouteAccess, routeAccess, Uuid } from '@gatehouse/server/http'
import { internalTokenCheck } from '@gatehouse/server/internal'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditActor } from '../audit/record.ts'
import type { Role } from '../db/schema.ts'
import type { SetupLinkService } from '../setup-links/service.ts'
import type { WorkspaceRow } from '../workspaces/repo.ts'
import { rolesFrom, type WorkspaceService } from '../workspaces/service.ts'
import { accountAuthentication, accountReauthentication } from './reach.ts'
import type { SessionRow, UserRow } from './repo.ts'
import type { SessionService, SignedIn } from './service.ts'

/** Who is acting on a request, and through which of the browser's authentications. */
export interface Actor {
  user: UserRow
  signedIn: SignedIn
  /** The authentication that authorized this request (its method goes into the events it causes). */
  session: SessionRow
  /** For `{ workspace }` routes: the workspace of `:workspaceId` and the caller's role there. */
  workspace?: { row: WorkspaceRow; role: Role }
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
  }
}

/** The request's actor; only routes that declare a session access have one. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new Error(`${request.routeOptions.url} declares no session access`)
  return request.actor
}

/** The workspace a `{ workspace }` route was authorized for, and the caller's role there. */
export function workspaceOf(request: FastifyRequest): { row: WorkspaceRow; role: Role } {
  const granted = actorOf(request).workspace
  if (!granted) throw new Error(`${request.routeOptions.url} was not authorized for a workspace`)
  return granted
}

/** Who acts on a request, for the audit trail: the person, how they signed in, and their address. */
export function auditActorFrom(request: FastifyRequest): AuditActor & { userId: string } {
  const { user, session } = actorOf(request)
  return { userId: user.id, method: session.method, ip: request.ip }
}

const uuidPattern = new RegExp((Uuid as { pattern?: string }).pattern ?? '')

/**
 * Auth's default-deny authorization: each route's `config.access` is enforced here before its
 * handler, so no handler checks (or forgets) by itself.
 */
export async function registerAccess(
  app: FastifyInstance,
  deps: {
    sessions: SessionService
    workspaces: WorkspaceService
    setupLinks: Pick<SetupLinkService, 'authenticate'>
    internalToken: string
  },
) {
  const checkInternalToken = internalTokenCheck(deps.internalToken)
  app.decorateRequest('actor', null)
  app.decorateRequest('setupLink', null)
  await app.register(routeAccess, {
    async enforce(request: FastifyRequest, access: RouteAccess) {
      if (access === 'public') return
      // A setup link's token reaches these routes only; no session is looked at (or lent) here.
      if (access === 'setup_link') {
        const header = request.headers['x-setup-token']
        request.setupLink = await deps.setupLinks.authenticate(typeof header === 'string' ? header : undefined)
        return
      }
      if (access === 'internal') return checkInternalToken(request)
      const signedIn = await deps.sessions.find(request)
      if (!signedIn) throw errors.unauthenticated()
      const { user } = signedIn
      if (access === 'session') {
        request.actor = { user, signedIn, session: signedIn.authentications[0] as SessionRow }
        return
      }
      if (access === 'password') {
        const session = accountAuthentication(signedIn)
        if (!session) throw accountReauthentication()
        request.actor = { user, signedIn, session }
        return
      }
      // Raw from the path (this runs before validation): only a well-formed id reaches Postgres.
      const workspaceId = (request.params as { workspaceId?: string }).workspaceId
      if (workspaceId === undefined)
        throw new Error(`${request.routeOptions.url} needs a workspace but has no :workspaceId`)
      if (!uuidPattern.test(workspaceId)) throw errors.badRequest('The workspace id is not a UUID.')
      const granted = await deps.workspaces.authorize(workspaceId, signedIn, rolesFrom[access.workspace])
      request.actor = {
        user,
        signedIn,
        session: granted.session,
        workspace: { row: granted.workspace, role: granted.role },
      }
    },
  })
}
