import { normalizeEmail } from '@gatehouse/server/email'
import type { IntrospectionAnswer, IntrospectionRequest } from '@gatehouse/server/internal'
import { findWorkspaceAccess } from '../workspaces/repo.ts'
import { accountAuthentication, signInFor, workspaceAuthentication } from './reach.ts'
import type { AuthDatabase } from './repo.ts'
import { authenticationView, type SessionService } from './service.ts'

/**
 * What another service may know of a session (the contract in @gatehouse/server/internal):
 * who it is, how it was authenticated, and, for a workspace asked about, the person's role there
 * and whether this session reaches it. Null when the cookie names no live session.
 */
export function createIntrospection(deps: { db: AuthDatabase; sessions: SessionService }) {
  return async function introspect(request: IntrospectionRequest): Promise<IntrospectionAnswer | null> {
    const signedIn = await deps.sessions.findByCookie(request.sessionToken)
    if (!signedIn) return null
    const { user } = signedIn
    const account = accountAuthentication(signedIn)
    let workspace: IntrospectionAnswer['workspace'] = null
    if (request.workspaceId) {
      // Membership of an email is answered only for a well-formed one (otherwise null).
      const email = (request.email && normalizeEmail(request.email)) || undefined
      const access = await findWorkspaceAccess(deps.db, request.workspaceId, user.id, email)
      if (access) {
        const reachedBy = access.role ? workspaceAuthentication(signedIn, access.workspace.id, access) : undefined
        workspace = {
          id: access.workspace.id,
          name: access.workspace.name,
          role: access.role,
          emailIsMember: access.emailIsMember,
          reachedBy: reachedBy ? authenticationView(reachedBy) : null,
          signIn: signInFor(access),
        }
      }
    }
    return {
      user: {
        id: user.id,
        email: user.email,
        createdVia: user.createdVia,
        createdAt: user.createdAt.toISOString(),
        emailConfirmed: user.emailConfirmedAt !== null,
      },
      authentications: signedIn.authentications.map(authenticationView),
      account: account ? authenticationView(account) : null,
      workspace,
    }
  }
}

export type Introspect = ReturnType<typeof createIntrospection>
