// The links mailed to an account's address: a confirmation of the address (24 hours) or a password
// reset (30 minutes). The token is 256 bits, shown once (sealed inside the `auth.link.issued` event
// for the mailer), stored as its SHA-256, used once, and rides in the link's fragment
// (`/confirm#token=…`, `/reset#token=…`), which browsers never send to a server, so it reaches no log.
import { randomBytes, randomUUID } from 'node:crypto'
import type { TokenSeal } from '@gatehouse/server/sealed-token'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { Executor } from '../sessions/repo.ts'
import { hashToken } from '../sessions/service.ts'
import { type AccountLinkRow, findLinkByTokenHash, insertLink, type LinkPurpose, retireLinks } from './links-repo.ts'

export const linkLifetimeMs: Record<LinkPurpose, number> = {
  confirm_email: 24 * 60 * 60 * 1000,
  reset_password: 30 * 60 * 1000,
}

const tokenPattern = /^[\w-]{43}$/

export type LinkIssuer = ReturnType<typeof createLinkIssuer>

export function createLinkIssuer(deps: { events: AuthEvents; seal: TokenSeal; now: () => Date }) {
  return {
    /**
     * Issues a link in the caller's transaction (its row and the event the mailer sends) and
     * retires the account's earlier links of that purpose. False when a link already answers
     * `requestEventId` (the request was handled before).
     */
    async issue(
      tx: Executor,
      user: { id: string; email: string },
      purpose: LinkPurpose,
      requestEventId?: string,
    ): Promise<boolean> {
      const token = randomBytes(32).toString('base64url')
      const id = randomUUID()
      const now = deps.now()
      const expiresAt = new Date(now.getTime() + linkLifetimeMs[purpose])
      const issued = await insertLink(tx, {
        id,
        userId: user.id,
        purpose,
        tokenHash: hashToken(token),
        requestEventId: requestEventId ?? null,
        createdAt: now,
        expiresAt,
      })
      if (!issued) return false
      await retireLinks(tx, user.id, now, { purpose, except: id })
      await deps.events.account(tx, 'auth.link.issued', {
        userId: user.id,
        email: user.email,
        purpose,
        linkId: id,
        sealedToken: deps.seal.seal(token, id),
        expiresAt: expiresAt.toISOString(),
      })
      return true
    },

    /** The link a token names, if it may be used now; otherwise 404 `invalid_link` or 410 `link_expired`. */
    async find(db: Executor, token: string, purpose: LinkPurpose): Promise<AccountLinkRow> {
      const link = tokenPattern.test(token) ? await findLinkByTokenHash(db, hashToken(token), purpose) : undefined
      if (!link || link.usedAt) throw authErrors.invalidLink()
      if (link.expiresAt.getTime() <= deps.now().getTime()) throw authErrors.linkExpired()
      return link
    },
  }
}
