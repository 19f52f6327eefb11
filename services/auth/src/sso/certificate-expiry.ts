// Expiry notices: when an IdP certificate of a connection comes within 30, 7 and then 1 day of its
// end, the owners and admins are told once (`sso.certificate.expiring`, mailed by the invitation
// service). "Once" holds across restarts and replicas because the notice is a row with a primary
// key (connection, certificate, threshold) written in the transaction of its event: whichever
// scheduler inserts it announces it, every other finds it there.
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { findOwnerAudience, insertExpiryNotice, listConnectionCertificates } from './repo.ts'

/** Days before a certificate's end at which its notice goes out, largest first. */
export const expiryThresholdsDays = [30, 7, 1] as const
const dayMs = 24 * 60 * 60 * 1000
const pageSize = 500

/**
 * The threshold a certificate has reached at `now`: the smallest one not yet passed, so a
 * certificate added with 5 days left gets the 7-day notice (not also the 30-day one); null
 * before the first threshold and once it has expired.
 */
export function thresholdReached(notAfter: Date, now: Date): number | null {
  const left = notAfter.getTime() - now.getTime()
  if (left <= 0) return null
  const reached = expiryThresholdsDays.filter((days) => left <= days * dayMs)
  return reached.at(-1) ?? null
}

export function createCertificateExpiryNotices(deps: { db: AuthDatabase; events: AuthEvents; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())
  return {
    /** Announces every notice due at the clock's time and not yet announced; returns how many. */
    async announceDue(): Promise<number> {
      const at = now()
      let announced = 0
      let afterId: string | null = null
      for (;;) {
        const page = await listConnectionCertificates(deps.db, afterId, pageSize)
        for (const connection of page) {
          for (const certificate of connection.certificates ?? []) {
            const notAfter = new Date(certificate.notAfter)
            const thresholdDays = thresholdReached(notAfter, at)
            if (thresholdDays === null) continue
            const written = await deps.db.transaction(async (tx) => {
              const fresh = await insertExpiryNotice(tx, {
                connectionId: connection.id,
                fingerprint: certificate.fingerprintSha256,
                thresholdDays,
                workspaceId: connection.workspaceId,
                notAfter,
                announcedAt: at,
              })
              if (!fresh) return false
              const audience = await findOwnerAudience(tx, connection.workspaceId)
              await deps.events.certificateExpiring(
                tx,
                {
                  workspaceId: connection.workspaceId,
                  workspaceName: audience.workspaceName.slice(0, 200),
                  connectionId: connection.id,
                  fingerprint: certificate.fingerprintSha256,
                  notAfter: notAfter.toISOString(),
                  daysLeft: thresholdDays,
                  notify: audience.ownerAndAdminEmails.slice(0, 100),
                },
                at,
              )
              return true
            })
            if (written) announced += 1
          }
        }
        afterId = page.at(-1)?.id ?? null
        if (page.length < pageSize || afterId === null) break
      }
      if (announced > 0) deps.events.wake()
      return announced
    },
  }
}

export type CertificateExpiryNotices = ReturnType<typeof createCertificateExpiryNotices>
