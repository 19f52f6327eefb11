import type { InvitationAccepted } from '@gatehouse/events'
import { errors } from '@gatehouse/server'
import type { Role } from '../db/schema.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import {
  applyAcceptedInvitation,
  findWorkspaceAccess,
  insertMembership,
  insertWorkspace,
  listMembers,
  listMemberships,
  type WorkspaceRow,
} from './repo.ts'

export const adminRoles: readonly Role[] = ['owner', 'admin']

export function createWorkspaceService(deps: { db: AuthDatabase }) {
  return {
    async create(name: string, userId: string): Promise<WorkspaceRow> {
      return deps.db.transaction(async (tx) => {
        const workspace = await insertWorkspace(tx, name.trim(), userId)
        await insertMembership(tx, {
          workspaceId: workspace.id,
          userId,
          role: 'owner',
          ssoAllowed: true,
          source: 'creator',
        })
        return workspace
      })
    },

    /**
     * The workspace, when the user holds one of `roles` in it. Permission first: a stranger
     * learns only that they may not look (403), never what is inside.
     */
    async authorize(workspaceId: string, userId: string, roles: readonly Role[] = ['owner', 'admin', 'member']) {
      const access = await findWorkspaceAccess(deps.db, workspaceId, userId)
      if (!access) throw errors.notFound('No such workspace.')
      if (!access.role || !roles.includes(access.role)) {
        throw errors.forbidden(
          access.role ? 'Only a workspace owner or admin can do this.' : 'You are not a member of this workspace.',
        )
      }
      return { workspace: access.workspace, role: access.role }
    },

    memberships: (userId: string) => listMemberships(deps.db, userId),

    members: (workspaceId: string) => listMembers(deps.db, workspaceId),

    /**
     * Applies an `invitation.accepted` event: the invited password account becomes a member
     * with SSO allowed. Idempotent on the event id, so a redelivered event grants once.
     */
    async grantMembershipFromInvitation(event: InvitationAccepted): Promise<'granted' | 'duplicate' | 'no_account'> {
      const applied = await applyAcceptedInvitation(deps.db, {
        eventId: event.id,
        type: event.type,
        workspaceId: event.workspaceId,
        userId: event.userId,
        email: event.email.toLowerCase(),
        role: event.role,
        invitationId: event.invitationId,
      })
      if (!applied.newEvent) return 'duplicate'
      return applied.granted ? 'granted' : 'no_account'
    },
  }
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>
