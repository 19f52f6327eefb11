import type { InvitationAccepted } from '@gatehouse/events'
import { errors } from '@gatehouse/server'
import { findUserByEmail } from '../accounts/repo.ts'
import type { Role } from '../db/schema.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import {
  findMembership,
  findWorkspace,
  insertMembership,
  insertWorkspace,
  listMemberships,
  markEventProcessed,
  upsertInvitedMembership,
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
      const workspace = await findWorkspace(deps.db, workspaceId)
      if (!workspace) throw errors.notFound('No such workspace.')
      const membership = await findMembership(deps.db, workspaceId, userId)
      if (!membership || !roles.includes(membership.role)) {
        throw errors.forbidden(
          membership ? 'Only a workspace owner or admin can do this.' : 'You are not a member of this workspace.',
        )
      }
      return { workspace, membership }
    },

    memberships: (userId: string) => listMemberships(deps.db, userId),

    /**
     * Applies an `invitation.accepted` event: the invited password account becomes a member
     * with SSO allowed. Idempotent on the event id, so a redelivered event grants once.
     */
    async grantMembershipFromInvitation(event: InvitationAccepted): Promise<'granted' | 'duplicate' | 'no_account'> {
      return deps.db.transaction(async (tx) => {
        if (!(await markEventProcessed(tx, event.id, event.type))) return 'duplicate'
        const user = await findUserByEmail(tx, event.email.toLowerCase())
        // The invitation service only accepts for a password account of the same email; a user
        // id that does not match means the account is gone, and nothing is granted.
        if (!user || user.id !== event.userId || user.createdVia !== 'password') return 'no_account'
        if (!(await findWorkspace(tx, event.workspaceId))) return 'no_account'
        await upsertInvitedMembership(tx, {
          workspaceId: event.workspaceId,
          userId: user.id,
          role: event.role,
          invitationId: event.invitationId,
        })
        return 'granted'
      })
    },
  }
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>
