import { and, asc, count, eq, isNotNull, ne, sql } from 'drizzle-orm'
import { ssoConnections, workspaceDomains } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

export type DomainClaimRow = typeof workspaceDomains.$inferSelect

export function listDomainClaims(db: Executor, workspaceId: string): Promise<DomainClaimRow[]> {
  return db
    .select()
    .from(workspaceDomains)
    .where(eq(workspaceDomains.workspaceId, workspaceId))
    .orderBy(asc(workspaceDomains.domain))
}

export async function countDomainClaims(db: Executor, workspaceId: string): Promise<number> {
  const [row] = await db
    .select({ claims: count() })
    .from(workspaceDomains)
    .where(eq(workspaceDomains.workspaceId, workspaceId))
  return row?.claims ?? 0
}

export async function findDomainClaim(
  db: Executor,
  workspaceId: string,
  domain: string,
): Promise<DomainClaimRow | undefined> {
  const [row] = await db
    .select()
    .from(workspaceDomains)
    .where(and(eq(workspaceDomains.workspaceId, workspaceId), eq(workspaceDomains.domain, domain)))
    .limit(1)
  return row
}

/** Whether another workspace has verified this domain (it then owns it). */
export async function domainVerifiedElsewhere(db: Executor, workspaceId: string, domain: string): Promise<boolean> {
  const [row] = await db
    .select({ id: workspaceDomains.id })
    .from(workspaceDomains)
    .where(
      and(
        eq(workspaceDomains.domain, domain),
        isNotNull(workspaceDomains.verifiedAt),
        ne(workspaceDomains.workspaceId, workspaceId),
      ),
    )
    .limit(1)
  return row !== undefined
}

/** The claim, new or the one this workspace already holds for the domain. */
export async function insertDomainClaim(
  db: Executor,
  claim: { workspaceId: string; domain: string; token: string; createdBy: string },
): Promise<DomainClaimRow> {
  const [inserted] = await db.insert(workspaceDomains).values(claim).onConflictDoNothing().returning()
  if (inserted) return inserted
  const existing = await findDomainClaim(db, claim.workspaceId, claim.domain)
  if (!existing) throw new Error('domain claim vanished during insert')
  return existing
}

/**
 * Marks the claim verified. The partial unique index on verified domains makes the first
 * workspace to verify the owner: a second verification fails with a unique violation.
 */
export async function markDomainVerified(db: Executor, claimId: string, at: Date): Promise<DomainClaimRow> {
  const [row] = await db
    .update(workspaceDomains)
    .set({ verifiedAt: at })
    .where(eq(workspaceDomains.id, claimId))
    .returning()
  if (!row) throw new Error('domain claim vanished during verification')
  return row
}

export async function deleteDomainClaim(db: Executor, workspaceId: string, domain: string): Promise<boolean> {
  const deleted = await db
    .delete(workspaceDomains)
    .where(and(eq(workspaceDomains.workspaceId, workspaceId), eq(workspaceDomains.domain, domain)))
    .returning({ id: workspaceDomains.id })
  return deleted.length > 0
}

/**
 * The enabled, configured SSO connection of the workspace that verified `domain`, if any. One
 * statement of the same shape whatever the domain, so a miss costs what a hit costs.
 */
export async function findConnectionForVerifiedDomain(db: Executor, domain: string): Promise<string | undefined> {
  const [row] = await db
    .select({ connectionId: ssoConnections.id })
    .from(workspaceDomains)
    .innerJoin(
      ssoConnections,
      and(
        eq(ssoConnections.workspaceId, workspaceDomains.workspaceId),
        eq(ssoConnections.enabled, true),
        isNotNull(ssoConnections.idpSsoUrl),
      ),
    )
    .where(and(eq(workspaceDomains.domain, domain), sql`${workspaceDomains.verifiedAt} is not null`))
    .limit(1)
  return row?.connectionId
}
