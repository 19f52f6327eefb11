import { errors } from '@gatehouse/server/errors'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { Role } from '../db/schema.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase, Executor, SessionRow } from '../sessions/repo.ts'
import { authenticationView } from '../sessions/service.ts'
import { listMemberships, recordWithdrawnInvitation } from '../workspaces/repo.ts'
import {
  deleteMembership,
  deleteWorkspace,
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

/** Why a membership ended when its account's address was reclaimed (`membership.removed`'s `reason`). */
type RemovalReason = 'account_reclaimed' | 'workspace_deleted'

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

  /**
   * Runs `change` on the locked workspace; the events it wrote leave once it commits. `first` runs
   * in the same transaction before the lock is taken.
   */
  async function changing<T>(
    workspaceId: string,
    change: (tx: Executor, locked: Locked) => Promise<T>,
    first?: (tx: Executor) => Promise<void>,
  ): Promise<T> {
    // events.transaction: the sessions a removal ends are announced after the commit, before the answer.
    return deps.events.transaction(deps.db, async (tx) => {
      await first?.(tx)
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
  async function end(tx: Executor, locked: Locked, userId: string, actor: MembershipActor, reason?: RemovalReason) {
    const member = memberIn(locked, userId)
    if (member.role === 'owner' && ownersIn(locked) === 1) throw authErrors.lastOwner()
    await deleteMembership(tx, locked.workspace.id, userId)
    await announceEnd(tx, locked, member, actor, reason)
    await recordAudit(tx, {
      workspaceId: locked.workspace.id,
      actor: auditActorOf(actor),
      action: userId === actor.userId && !reason ? 'membership.left' : 'membership.removed',
      changes: { userId, email: member.email, role: member.role, ...(reason ? { reason } : {}) },
    })
  }

  /** What follows a membership's end: its owner's recovery way in and its IdP's sessions end, and `membership.removed`. */
  async function announceEnd(
    tx: Executor,
    locked: Locked,
    member: Locked['members'][number],
    actor: MembershipActor,
    reason?: RemovalReason,
  ) {
    const workspaceId = locked.workspace.id
    if (member.role === 'owner') await endOwnerRecovery(tx, workspaceId, member.userId)
    await deps.events.logout(
      tx,
      await revokeWorkspaceSessions(tx, workspaceId, member.userId, now()),
      'membership_removed',
    )
    await deps.events.membershipRemoved(tx, {
      workspaceId,
      workspaceName: locked.workspace.name.slice(0, 200),
      userId: member.userId,
      email: member.email,
      role: member.role,
      by: actor.userId,
      actingSession: actingSession(actor),
      ...(reason ? { reason } : {}),
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
     * The address's owner reclaimed an unproven account (accounts/recovery.ts; in its transaction,
     * after the account's sessions ended): nothing its maker set up is handed to them. An unproven
     * account joins nothing (accepting invitations needs a proven address), so every membership it
     * holds comes from a workspace it made; each ends. A workspace it alone owns would be left
     * without an owner, and handing it to another member would give the maker's setup (its IdP,
     * the people it let in) to someone the maker chose: it is deleted. The invitation service
     * revokes what they left pending on `membership.removed` with its `reason`.
     */
    async endReclaimedAccount(tx: Executor, userId: string, ip: string): Promise<void> {
      const actor: MembershipActor = {
        userId,
        session: { method: 'password', workspaceId: null, connectionId: null },
        ip,
      }
      const held = (await listMemberships(tx, userId)).map((membership) => membership.workspaceId).sort()
      // One workspace after another in id order, as any two such transactions take their locks.
      for (const workspaceId of held) {
        const locked = await lockWorkspaceMembers(tx, workspaceId)
        const member = locked?.members.find((candidate) => candidate.userId === userId)
        if (!locked || !member) continue
        if (member.role !== 'owner' || ownersIn(locked) > 1) {
          await end(tx, locked, userId, actor, 'account_reclaimed')
          continue
        }
        for (const each of locked.members) await announceEnd(tx, locked, each, actor, 'workspace_deleted')
        // Kept beside the workspace's id for whoever reads the log after it is gone.
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'workspace.deleted',
          changes: { name: locked.workspace.name, reason: 'owner_account_reclaimed', members: locked.members.length },
        })
        await deleteWorkspace(tx, workspaceId)
      }
    },

    /**
     * An owner or admin removes someone (an admin: members only); removing oneself is leaving.
     * With `invitationId` (the invitation service revoking an accepted invitation), that
     * invitation's event grants nothing from now on, even when it has not arrived yet: then there
     * is no membership to remove and this succeeds.
     */
    remove(workspaceId: string, userId: string, actor: MembershipActor, invitationId?: string): Promise<void> {
      // The withdrawal's key first, then the lock: an acceptance being applied right now either
      // committed its membership before (read under the lock, and removed) or grants nothing
      // (recordWithdrawnInvitation). The other order could deadlock with the consumer.
      const withdraw =
        invitationId === undefined ? undefined : (tx: Executor) => recordWithdrawnInvitation(tx, invitationId)
      return changing(
        workspaceId,
        async (tx, locked) => {
          if (invitationId !== undefined) {
            if (actorRole(locked, actor) === 'member')
              throw errors.forbidden('Only a workspace owner or admin can do this.')
            if (!locked.members.some((candidate) => candidate.userId === userId)) return
          }
          const member = memberIn(locked, userId)
          const role = actorRole(locked, actor)
          if (userId !== actor.userId) {
            if (role === 'member') throw errors.forbidden('Only a workspace owner or admin can do this.')
            if (role !== 'owner' && member.role !== 'member') throw authErrors.roleNotManageable()
          }
          await end(tx, locked, userId, actor)
        },
        withdraw,
      )
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
