import { errors } from '@gatehouse/server/errors'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { Role } from '../db/schema.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase, Executor, SessionRow } from '../sessions/repo.ts'
import { authenticationView } from '../sessions/service.ts'
import { recordWithdrawnInvitation } from '../workspaces/repo.ts'
import {
  deleteMembership,
  endOwnerRecovery,
  lockWorkspaceMembers,
  revokeWorkspaceSessions,
  updateRole,
} from './repo.ts'

/** Who acts on a workspace's memberships: the session that reaches it, and the address they act from. */
export interface MembershipActor {
  userId: string
  session: Pick<SessionRow, 'method' | 'workspaceId' | 'connectionId'>
  ip: string
}

const auditActorOf = (actor: MembershipActor): AuditActor => ({
  userId: actor.userId,
  method: actor.session.method,
  ip: actor.ip,
})

type Locked = NonNullable<Awaited<ReturnType<typeof lockWorkspaceMembers>>>

/** How the acting session was authenticated, as events carry it. */
function actingSession(actor: MembershipActor) {
  const view = authenticationView(actor.session)
  return view.method === 'saml' ? { method: view.method, workspaceId: view.workspaceId } : { method: view.method }
}

const ownersIn = (locked: Locked) => locked.members.filter((member) => member.role === 'owner').length

/**
 * Memberships change only here, each change in one transaction with its events (outbox) and its
 * audit entry, under the workspace's lock (see lockWorkspaceMembers). The rules: owners make and
 * unmake admins and owners; admins manage members; a workspace always keeps an owner.
 */
export function createMembershipService(deps: { db: AuthDatabase; events: AuthEvents; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())

  /** Runs `change` on the locked workspace; the events it wrote leave once it commits. */
  async function changing<T>(workspaceId: string, change: (tx: Executor, locked: Locked) => Promise<T>): Promise<T> {
    // events.transaction: the sessions a removal ends are announced after the commit, before the answer.
    return deps.events.transaction(deps.db, async (tx) => {
      const locked = await lockWorkspaceMembers(tx, workspaceId)
      if (!locked) throw authErrors.memberNotFound()
      return change(tx, locked)
    })
  }

  /** The actor's role as it is under the lock (a concurrent change may have moved it since the request was authorized). */
  function actorRole(locked: Locked, actor: MembershipActor): Role {
    const self = locked.members.find((candidate) => candidate.userId === actor.userId)
    if (!self) throw errors.forbidden('You are not a member of this workspace.')
    return self.role
  }

  function memberIn(locked: Locked, userId: string) {
    const member = locked.members.find((candidate) => candidate.userId === userId)
    if (!member) throw authErrors.memberNotFound()
    return member
  }

  /**
   * Ends a membership: the row goes (so the person's next SSO into the workspace is refused by
   * the login statement, which reads it), the sessions the workspace's IdP opened for them end,
   * and `membership.removed` tells the invitation service (its views, the person's email).
   */
  async function end(tx: Executor, locked: Locked, userId: string, actor: MembershipActor) {
    const member = memberIn(locked, userId)
    if (member.role === 'owner' && ownersIn(locked) === 1) throw authErrors.lastOwner()
    const at = now()
    await deleteMembership(tx, locked.workspace.id, userId)
    if (member.role === 'owner') await endOwnerRecovery(tx, locked.workspace.id, userId)
    await deps.events.logout(
      tx,
      await revokeWorkspaceSessions(tx, locked.workspace.id, userId, at),
      'membership_removed',
    )
    await deps.events.membershipRemoved(tx, {
      workspaceId: locked.workspace.id,
      workspaceName: locked.workspace.name.slice(0, 200),
      userId,
      email: member.email,
      role: member.role,
      by: actor.userId,
      actingSession: actingSession(actor),
    })
    await recordAudit(tx, {
      workspaceId: locked.workspace.id,
      actor: auditActorOf(actor),
      action: userId === actor.userId ? 'membership.left' : 'membership.removed',
      changes: { userId, email: member.email, role: member.role },
    })
  }

  async function setRoles(
    tx: Executor,
    locked: Locked,
    changes: { userId: string; role: Role; previousRole: Role }[],
    actor: MembershipActor,
  ) {
    const effective = changes.filter((change) => change.role !== change.previousRole)
    for (const change of effective) {
      await updateRole(tx, locked.workspace.id, change.userId, change.role)
      if (change.previousRole === 'owner') await endOwnerRecovery(tx, locked.workspace.id, change.userId)
    }
    await deps.events.roleChanged(
      tx,
      effective.map((change) => ({
        workspaceId: locked.workspace.id,
        ...change,
        by: actor.userId,
        actingSession: actingSession(actor),
      })),
    )
    for (const change of effective) {
      await recordAudit(tx, {
        workspaceId: locked.workspace.id,
        actor: auditActorOf(actor),
        action: 'membership.role_changed',
        changes: change,
      })
    }
  }

  return {
    /**
     * An owner or admin removes someone (an admin: members only); removing oneself is leaving.
     * With `invitationId` (the invitation service revoking an accepted invitation), that
     * invitation's event grants nothing from now on, even when it has not arrived yet: then there
     * is no membership to remove and this succeeds.
     */
    remove(workspaceId: string, userId: string, actor: MembershipActor, invitationId?: string): Promise<void> {
      return changing(workspaceId, async (tx, locked) => {
        if (invitationId !== undefined) {
          if (actorRole(locked, actor) === 'member')
            throw errors.forbidden('Only a workspace owner or admin can do this.')
          await recordWithdrawnInvitation(tx, invitationId)
          if (!locked.members.some((candidate) => candidate.userId === userId)) return
        }
        const member = memberIn(locked, userId)
        const role = actorRole(locked, actor)
        if (userId !== actor.userId) {
          if (role === 'member') throw errors.forbidden('Only a workspace owner or admin can do this.')
          if (role !== 'owner' && member.role !== 'member') throw authErrors.roleNotManageable()
        }
        await end(tx, locked, userId, actor)
      })
    },

    /** The caller leaves the workspace (never its last owner). */
    leave(workspaceId: string, actor: MembershipActor): Promise<void> {
      return changing(workspaceId, (tx, locked) => end(tx, locked, actor.userId, actor))
    },

    /** An owner sets a member's role; demoting the last owner is refused. */
    changeRole(workspaceId: string, userId: string, role: Role, actor: MembershipActor): Promise<Role> {
      return changing(workspaceId, async (tx, locked) => {
        if (actorRole(locked, actor) !== 'owner') throw authErrors.roleNotManageable()
        const member = memberIn(locked, userId)
        if (member.role === 'owner' && role !== 'owner' && ownersIn(locked) === 1) throw authErrors.lastOwner()
        await setRoles(tx, locked, [{ userId, role, previousRole: member.role }], actor)
        return role
      })
    },

    /** The owner hands the ownership to another member and becomes an admin. */
    transferOwnership(workspaceId: string, userId: string, actor: MembershipActor): Promise<void> {
      return changing(workspaceId, async (tx, locked) => {
        if (actorRole(locked, actor) !== 'owner') throw authErrors.roleNotManageable()
        if (userId === actor.userId) throw authErrors.ownTransfer()
        const member = memberIn(locked, userId)
        const self = memberIn(locked, actor.userId)
        await setRoles(
          tx,
          locked,
          [
            { userId, role: 'owner', previousRole: member.role },
            { userId: actor.userId, role: 'admin', previousRole: self.role },
          ],
          actor,
        )
      })
    },
  }
}

export type MembershipService = ReturnType<typeof createMembershipService>
