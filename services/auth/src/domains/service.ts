import { randomBytes } from 'node:crypto'
import { domainToASCII } from 'node:url'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { authErrors } from '../errors.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { TxtLookup } from './dns.ts'
import {
  countDomainClaims,
  type DomainClaimRow,
  deleteDomainClaim,
  domainVerifiedElsewhere,
  findConnectionForVerifiedDomain,
  findDomainClaim,
  insertDomainClaim,
  listDomainClaims,
  markDomainVerified,
} from './repo.ts'

/** The TXT record that proves a claim: `_gatehouse-challenge.<domain>` holding `gatehouse-verification=<token>`. */
export const challengeLabel = '_gatehouse-challenge'
export const verificationPrefix = 'gatehouse-verification='
export const maximumClaimsPerWorkspace = 20

/**
 * A domain name as stored and compared: lower-case ASCII (IDNs as punycode), no trailing dot,
 * at least two labels of letters, digits and inner hyphens. `null` for anything else.
 */
export function normalizeDomain(raw: string): string | null {
  // domainToASCII parses a URL host, so it would read `evil.example/path` as `evil.example`.
  if (raw.length > 253 || /[\s/\\:@?#%[\]]/.test(raw)) return null
  const ascii = domainToASCII(raw.trim().replace(/\.$/, ''))
  if (!ascii || ascii.length > 253) return null
  const labels = ascii.split('.')
  if (labels.length < 2) return null
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
  return labels.every((part) => label.test(part)) && !/^\d+$/.test(labels.at(-1) ?? '') ? ascii : null
}

export function domainClaimView(claim: DomainClaimRow) {
  return {
    domain: claim.domain,
    status: claim.verifiedAt ? ('verified' as const) : ('pending' as const),
    txtRecord: { name: `${challengeLabel}.${claim.domain}`, value: `${verificationPrefix}${claim.token}` },
    createdAt: claim.createdAt.toISOString(),
    verifiedAt: claim.verifiedAt?.toISOString() ?? null,
  }
}

const isUniqueViolation = (error: unknown): boolean => {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as { code?: unknown }).code === '23505') return true
  }
  return false
}

/**
 * Domain claims. Callers are authorized by the routes' access declarations: a claim routes
 * everyone at the domain to the workspace's IdP, so only its owner may manage them.
 */
export function createDomainService(deps: { db: AuthDatabase; lookupTxt: TxtLookup; now?: () => Date }) {
  const { db } = deps
  const now = deps.now ?? (() => new Date())
  const claimOf = async (workspaceId: string, rawDomain: string) => {
    const domain = normalizeDomain(rawDomain)
    const claim = domain === null ? undefined : await findDomainClaim(db, workspaceId, domain)
    if (!claim) throw authErrors.domainNotFound()
    return claim
  }

  return {
    async list(workspaceId: string) {
      return listDomainClaims(db, workspaceId)
    },

    /** A pending claim and the token to publish; claiming again returns the same claim. */
    async claim(workspaceId: string, actor: AuditActor & { userId: string }, rawDomain: string) {
      const domain = normalizeDomain(rawDomain)
      if (domain === null) throw authErrors.invalidDomain()
      if (await domainVerifiedElsewhere(db, workspaceId, domain)) throw authErrors.domainTaken()
      const existing = await findDomainClaim(db, workspaceId, domain)
      if (existing) return existing
      if ((await countDomainClaims(db, workspaceId)) >= maximumClaimsPerWorkspace) throw authErrors.domainLimit()
      const token = randomBytes(24).toString('base64url')
      return db.transaction(async (tx) => {
        const claim = await insertDomainClaim(tx, { workspaceId, domain, token, createdBy: actor.userId })
        await recordAudit(tx, { workspaceId, actor, action: 'domain.claimed', changes: { domain } })
        return claim
      })
    },

    /** Looks the TXT record up; the first workspace to verify a domain keeps it. */
    async verify(workspaceId: string, actor: AuditActor, rawDomain: string) {
      const claim = await claimOf(workspaceId, rawDomain)
      if (claim.verifiedAt) return claim
      if (await domainVerifiedElsewhere(db, workspaceId, claim.domain)) throw authErrors.domainTaken()
      const answer = await deps.lookupTxt(`${challengeLabel}.${claim.domain}`)
      const expected = `${verificationPrefix}${claim.token}`
      if (!answer.found || !answer.records.includes(expected)) {
        throw authErrors.domainNotVerified(undefined, {
          reason: answer.found ? 'record_mismatch' : answer.reason,
          txtRecord: { name: `${challengeLabel}.${claim.domain}`, value: expected },
        })
      }
      try {
        return await db.transaction(async (tx) => {
          const verified = await markDomainVerified(tx, claim.id, now())
          await recordAudit(tx, { workspaceId, actor, action: 'domain.verified', changes: { domain: claim.domain } })
          return verified
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw authErrors.domainTaken()
        throw error
      }
    },

    async remove(workspaceId: string, actor: AuditActor, rawDomain: string) {
      const claim = await claimOf(workspaceId, rawDomain)
      await db.transaction(async (tx) => {
        if (!(await deleteDomainClaim(tx, workspaceId, claim.domain))) return
        await recordAudit(tx, {
          workspaceId,
          actor,
          action: 'domain.removed',
          changes: { domain: claim.domain, wasVerified: claim.verifiedAt !== null },
        })
      })
    },

    /**
     * Where an email may start SSO: only the connection of the workspace that verified the
     * email's domain. Never derived from memberships, so it tells nothing about who is where.
     */
    async loginConnectionFor(email: string): Promise<string | undefined> {
      const domain = normalizeDomain(email.slice(email.lastIndexOf('@') + 1))
      return findConnectionForVerifiedDomain(db, domain ?? '')
    },
  }
}

export type DomainService = ReturnType<typeof createDomainService>
