import type { InvitationAccepted } from '@gatehouse/events'
import { errors } from '@gatehouse/server/errors'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { Role } from '../db/schema.ts'
import { workspaceAuthentication, workspaceReauthentication } from '../sessions/reach.ts'
import { type AuthDatabase, holdLiveSession } from '../sessions/repo.ts'
import type { SignedIn } from '../sessions/service.ts'
import {
  applyAcceptedInvitation,
  findWorkspaceAccess,
  insertMembership,
  insertWorkspace,
  listMembers,
  listMemberships,
  type WorkspaceRow,
} from './repo.ts'

export const memberRoles: readonly Role[] = ['owner', 'admin', 'member']
export const adminRoles: readonly Role[] = ['owner', 'admin']
export const ownerRoles: readonly Role[] = ['owner']
/** The roles at least as strong as each role. */
export const rolesFrom: Record<Role, readonly Role[]> = { member: memberRoles, admin: adminRoles, owner: ownerRoles }
const roleRefusals: Record<Role, string> = {
  owner: 'Only a workspace owner can do this.',
  admin: 'Only a workspace owner or admin can do this.',
  member: 'You are not a member of this workspace.',
}

export function createWorkspaceService(deps: { db: AuthDatabase }) {
  return {
    async create(name: string, actor: AuditActor & { userId: string }, sessionId: string): Promise<WorkspaceRow> {
      const { userId } = actor
      return deps.db.transaction(async (tx) => {
        // A reclaim of the account (accounts/recovery.ts) ends its sessions and then its
        // workspaces: one made by a session it ends is made before (and ended by it) or not at all.
        if (!(await holdLiveSession(tx, sessionId, new Date()))) throw errors.unauthenticated()
        const workspace = await insertWorkspace(tx, name.trim(), userId)
        await insertMembership(tx, {
          workspaceId: workspace.id,
          userId,
          role: 'owner',
          ssoAllowed: true,
          source: 'creator',
        })
        await recordAudit(tx, {
          workspaceId: workspace.id,
          actor,
          action: 'workspace.created',
          changes: { name: workspace.name, owner: userId },
        })
        return workspace
      })
    },

    /**
     * The workspace, the caller's role in it and the authentication that reaches it, when the
     * caller is a member with one of `roles` whose sign-in reaches it. Permission first: a stranger
     * learns only that they may not look (403), never what is inside; a member whose sign-in does
     * not reach it (another workspace's SSO) is told where to sign in (403 `reauthentication_required`).
     */
    async authorize(workspaceId: string, signedIn: SignedIn, roles: readonly Role[] = memberRoles) {
      const access = await findWorkspaceAccess(deps.db, workspaceId, signedIn.user.id)
      if (!access) throw errors.notFound('No such workspace.')
      if (!access.role) throw errors.forbidden('You are not a member of this workspace.')
      const session = workspaceAuthentication(signedIn, workspaceId, access)
      if (!session) throw workspaceReauthentication(access)
      // The refusal names the least role that would do (`roles` runs from owner down).
      if (!roles.includes(access.role)) throw errors.forbidden(roleRefusals[roles.at(-1) ?? 'owner'])
      return { workspace: access.workspace, role: access.role, session }
    },

    memberships: (userId: string) => listMemberships(deps.db, userId),

    members: (workspaceId: string) => listMembers(deps.db, workspaceId),

    /**
     * Applies an `invitation.accepted` event: the invited password account becomes a member
     * with SSO allowed. Idempotent on the event id, so a redelivered event grants once; an
     * invitation revoked before its event arrived grants nothing, nor does one into a workspace
     * that is gone (`workspace_deleted`: accepted before the invitation service learnt that its
     * only owner's account was reclaimed, memberships/service.ts; workspaces are removed no other way).
     */
    async grantMembershipFromInvitation(
      event: InvitationAccepted,
    ): Promise<'granted' | 'duplicate' | 'withdrawn' | 'workspace_deleted' | 'no_account'> {
      const email = event.email.toLowerCase()
      // The membership and its audit row commit together: one statement, no transaction round trips
      // (`pnpm bench accept-to-sso`: a transaction of two statements per accept cost the 2-core
      // machine its p99 target at 200 accepts/s).
      const applied = await applyAcceptedInvitation(
        deps.db,
        {
          eventId: event.id,
          type: event.type,
          workspaceId: event.workspaceId,
          userId: event.userId,
          email,
          role: event.role,
          invitationId: event.invitationId,
        },
        {
          workspaceId: event.workspaceId,
          actor: { userId: event.userId, method: 'password', ip: event.ip ?? null },
          action: 'membership.joined',
          changes: { userId: event.userId, email, role: event.role, invitationId: event.invitationId },
          at: new Date(event.acceptedAt),
        },
      )
      if (!applied.newEvent) return 'duplicate'
      if (applied.withdrawn) return 'withdrawn'
      if (applied.granted) return 'granted'
      return applied.workspaceFound ? 'no_account' : 'workspace_deleted'
    },
  }
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>
