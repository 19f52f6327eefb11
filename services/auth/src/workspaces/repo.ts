import { executePrepared, rowsOf } from '@gatehouse/db'
import { and, eq, sql } from 'drizzle-orm'
import { type AuditEntry, auditRowFor } from '../audit/record.ts'
import { memberships, processedEvents, type Role, ssoConnections, users, workspaces } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

export type WorkspaceRow = typeof workspaces.$inferSelect
export type MembershipRow = typeof memberships.$inferSelect

/** Where a member who may use SSO signs in to reach the workspace with its IdP (joined rows). */
const ssoConnectionIdFor = sql<string | null>`case when ${memberships.ssoAllowed} and ${ssoConnections.enabled}
  and ${ssoConnections.idpSsoUrl} is not null then ${ssoConnections.id} end`

/** Whether the workspace requires its own SSO (joined rows): on, and the connection enabled. */
const ssoRequiredFor = sql<boolean>`coalesce(${ssoConnections.requireSso} and ${ssoConnections.enabled}, false)`

export async function insertWorkspace(db: Executor, name: string, createdBy: string): Promise<WorkspaceRow> {
  const [row] = await db.insert(workspaces).values({ name, createdBy }).returning()
  if (!row) throw new Error('workspace insert returned nothing')
  return row
}

/**
 * The workspace, the role `userId` holds in it (null when not a member) and, when `email` is given,
 * whether the account with that email is a member: in one query, what authorization and auth's
 * introspection need on every request.
 */
export async function findWorkspaceAccess(db: Executor, workspaceId: string, userId: string, email?: string) {
  const [row] = await db
    .select({
      workspace: workspaces,
      role: memberships.role,
      ssoConnectionId: ssoConnectionIdFor,
      ssoRequired: ssoRequiredFor,
      emailIsMember:
        email === undefined
          ? sql<null>`null`
          : sql<boolean>`exists (select 1 from ${memberships} as invited join ${users} as invitee
              on invitee.id = invited.user_id
              where invited.workspace_id = ${workspaces.id} and invitee.email = ${email})`,
    })
    .from(workspaces)
    .leftJoin(memberships, and(eq(memberships.workspaceId, workspaces.id), eq(memberships.userId, userId)))
    .leftJoin(ssoConnections, eq(ssoConnections.workspaceId, workspaces.id))
    .where(eq(workspaces.id, workspaceId))
    .limit(1)
  return row
}

export async function listMemberships(db: Executor, userId: string) {
  return db
    .select({
      workspaceId: memberships.workspaceId,
      workspaceName: workspaces.name,
      role: memberships.role,
      ssoAllowed: memberships.ssoAllowed,
      ssoConnectionId: ssoConnectionIdFor,
      ssoRequired: ssoRequiredFor,
    })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .leftJoin(ssoConnections, eq(ssoConnections.workspaceId, workspaces.id))
    .where(eq(memberships.userId, userId))
    .orderBy(workspaces.createdAt)
}

/**
 * A workspace's members, owner first, then by when they joined. Names are the ones this
 * workspace's IdP gave, else the account's: another workspace's IdP never shows here.
 */
export async function listMembers(db: Executor, workspaceId: string) {
  return db
    .select({
      userId: users.id,
      email: users.email,
      firstName: sql<string | null>`coalesce(${memberships.idpFirstName}, ${users.firstName})`,
      lastName: sql<string | null>`coalesce(${memberships.idpLastName}, ${users.lastName})`,
      role: memberships.role,
      ssoAllowed: memberships.ssoAllowed,
      source: memberships.source,
      joinedAt: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, workspaceId))
    .orderBy(sql`${memberships.role} = 'owner' desc`, memberships.createdAt)
}

export async function insertMembership(db: Executor, values: typeof memberships.$inferInsert): Promise<void> {
  await db.insert(memberships).values(values)
}

/**
 * An accepted invitation the invitation service revoked (POST /internal/memberships/remove) and an
 * accepted invitation the consumer applied: each a row keyed by the invitation's id beside the
 * processed events, so whichever commits first wins the key and the other sees the conflict (an
 * insert waits for a concurrent insert of the same key to commit). A withdrawal that wins means
 * the `invitation.accepted` event, still on its way (the outbox, the queue, or being applied
 * right now), grants nothing; one that loses finds the membership the consumer made and removes it.
 * A check of a row read in the statement's snapshot instead let a revocation committed while the
 * consumer's statement ran go unseen, and the membership outlived its revocation.
 */
const withdrawnInvitation = 'invitation.withdrawn'
const appliedInvitation = 'invitation.applied'

/** Run before the workspace's lock (the consumer takes that lock after its claim, through the membership's key). */
export async function recordWithdrawnInvitation(db: Executor, invitationId: string): Promise<void> {
  await db.insert(processedEvents).values({ eventId: invitationId, type: withdrawnInvitation }).onConflictDoNothing()
}

/**
 * Applies an accepted invitation in one statement (atomic, one round trip on the consumer's hot
 * path): records the event id and, only when that id is new, claims the invitation's id (refused
 * when withdrawn), and when the invited password account and the workspace exist, grants (or
 * re-grants) an SSO-allowed membership. An existing owner keeps their role. The account must be
 * the one the invitation service saw accept: same id, same email. Says whether the workspace
 * exists, so a grant that found none is told apart from one that found no such account.
 */
export async function applyAcceptedInvitation(
  db: Executor,
  event: {
    eventId: string
    type: string
    workspaceId: string
    userId: string
    email: string
    role: Role
    invitationId: string
  },
  /** The workspace's audit row for the membership, written when it is granted. */
  joined: AuditEntry & { eventId?: undefined },
): Promise<{ newEvent: boolean; granted: boolean; withdrawn: boolean; workspaceFound: boolean }> {
  const result = await executePrepared(
    db,
    'apply_accepted_invitation',
    sql`
    with processed as (
      insert into ${processedEvents} (event_id, type) values (${event.eventId}, ${event.type})
      on conflict do nothing
      returning event_id
    ), claimed as (
      insert into ${processedEvents} (event_id, type)
      select ${event.invitationId}::uuid, ${appliedInvitation} where exists (select 1 from processed)
      on conflict do nothing
      returning event_id
    ), eligible as (
      select ${users.id} as user_id
      from ${users} join ${workspaces} on ${workspaces.id} = ${event.workspaceId}::uuid
      where ${users.id} = ${event.userId}::uuid and ${users.email} = ${event.email} and ${users.createdVia} = 'password'
        and exists (select 1 from claimed)
    ), granted as (
      insert into ${memberships} (workspace_id, user_id, role, sso_allowed, source, invitation_id)
      select ${event.workspaceId}::uuid, user_id, ${event.role}, true, 'invitation', ${event.invitationId}::uuid from eligible
      on conflict (workspace_id, user_id) do update set sso_allowed = true, invitation_id = excluded.invitation_id
      returning 1
    ), joined as (
      ${auditRowFor(sql`granted`, joined)}
    )
    select (select count(*) from processed)::int as new_event, (select count(*) from granted)::int as granted,
      (select count(*) from processed)::int - (select count(*) from claimed)::int as withdrawn,
      (select count(*) from ${workspaces} where ${workspaces.id} = ${event.workspaceId}::uuid)::int as workspace_found`,
  )
  const [row] = rowsOf<{ new_event: number; granted: number; withdrawn: number; workspace_found: number }>(result)
  return {
    newEvent: row?.new_event === 1,
    granted: row?.granted === 1,
    withdrawn: row?.withdrawn === 1,
    workspaceFound: row?.workspace_found === 1,
  }
}
