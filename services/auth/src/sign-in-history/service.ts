import { decodeCursor, encodeCursor } from '../paging.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { signInHistoryRetentionMs } from './projection.ts'
import { countRecentOutcomes, latestSignIn, listSignIns, type SignInRow } from './repo.ts'

/**
 * When the SSO page says **Failing**: in the last hour, at least `minRefused` sign-ins were refused
 * for a reason the connection's settings decide (`saml_invalid`: signature, certificate, issuer,
 * audience, Reply URL, NameID, …), and they are at least `refusedShare` of that hour's attempts.
 * A member who has not accepted their invitation (`sso_not_allowed`) or a replayed response
 * (`saml_replayed`) says nothing about the connection and does not count as refused.
 */
export const failingRule = { windowMs: 60 * 60 * 1000, minRefused: 3, refusedShare: 0.5 } as const
const settingsCodes = ['saml_invalid'] as const

export interface SignInPage {
  signIns: SignInView[]
  nextCursor: string | null
}

export function signInView(row: SignInRow) {
  return {
    id: row.eventId,
    occurredAt: row.occurredAt.toISOString(),
    email: row.email,
    outcome: row.outcome,
    code: row.code,
    reason: row.reason,
    reference: row.reference,
    message: row.message,
    initiation: row.initiation,
    certificateFingerprint: row.certificateFingerprint,
    ip: row.ip,
  }
}
export type SignInView = ReturnType<typeof signInView>

/** A workspace's SSO sign-ins for its admins (callers have checked the role), and its health. */
export function createSignInHistoryService(deps: { db: AuthDatabase; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())
  return {
    async list(
      workspaceId: string,
      query: { cursor?: string; limit: number; reference?: string },
    ): Promise<SignInPage> {
      const rows = await listSignIns(deps.db, {
        workspaceId,
        since: new Date(now().getTime() - signInHistoryRetentionMs),
        limit: query.limit + 1,
        ...(query.cursor ? { before: decodeCursor(query.cursor) } : {}),
        ...(query.reference ? { reference: query.reference } : {}),
      })
      const page = rows.slice(0, query.limit)
      const last = page.at(-1)
      return {
        signIns: page.map(signInView),
        nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.occurredAt, id: last.eventId }) : null,
      }
    },

    /**
     * `failing` by `failingRule`, with the latest such refusal (its message says what to fix);
     * `healthy` when the last hour had attempts and is not failing; `idle` when it had none.
     * `latestCertificate` is the fingerprint that signed the newest successful sign-in (30 days).
     */
    async health(workspaceId: string) {
      const since = new Date(now().getTime() - failingRule.windowMs)
      const { attempts, refused } = await countRecentOutcomes(deps.db, workspaceId, since, settingsCodes)
      const failing = refused >= failingRule.minRefused && refused >= attempts * failingRule.refusedShare
      const latestRefusal = failing
        ? await latestSignIn(deps.db, workspaceId, since, { outcome: 'failed', codes: settingsCodes })
        : undefined
      const latestSuccess = await latestSignIn(
        deps.db,
        workspaceId,
        new Date(now().getTime() - signInHistoryRetentionMs),
        { outcome: 'succeeded' },
      )
      return {
        status: failing ? ('failing' as const) : attempts > 0 ? ('healthy' as const) : ('idle' as const),
        windowMinutes: failingRule.windowMs / 60_000,
        attempts,
        refused,
        latestRefusal: latestRefusal ? signInView(latestRefusal) : null,
        latestCertificate: latestSuccess?.certificateFingerprint ?? null,
      }
    },
  }
}

export type SignInHistoryService = ReturnType<typeof createSignInHistoryService>
