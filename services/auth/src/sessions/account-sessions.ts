import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import { type AuthDatabase, listLiveSessions, revokeUserSessions } from './repo.ts'
import { idleSince, type SignedIn } from './service.ts'

/**
 * A person's sessions, as they see and end them: every live sign-in of the account (this browser's
 * and others'), each end announced (`auth.logout`, `ended_elsewhere`) in the transaction that ends it.
 */
export function createAccountSessions(deps: { db: AuthDatabase; events: AuthEvents; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())

  async function endWhere(signedIn: SignedIn, select: { only: string[] } | { except: string[] }) {
    const at = now()
    const ended = await deps.events.transaction(deps.db, async (tx) => {
      const rows = await revokeUserSessions(tx, signedIn.user.id, select, idleSince(at), at)
      await deps.events.logout(tx, rows, 'ended_elsewhere')
      return rows
    })
    return ended.length
  }

  return {
    async list(signedIn: SignedIn) {
      const at = now()
      const current = new Set(signedIn.authentications.map((session) => session.id))
      const rows = await listLiveSessions(deps.db, signedIn.user.id, idleSince(at), at)
      return rows.map((row) => ({ ...row, current: current.has(row.session.id) }))
    },

    /** Ends one of the person's sessions (404 when it is not theirs or has already ended). */
    async end(signedIn: SignedIn, sessionId: string): Promise<void> {
      if ((await endWhere(signedIn, { only: [sessionId] })) === 0) throw authErrors.sessionNotFound()
    },

    /** Ends every session of the person but the ones this browser holds; how many ended. */
    endOthers(signedIn: SignedIn): Promise<number> {
      return endWhere(signedIn, { except: signedIn.authentications.map((session) => session.id) })
    },
  }
}

export type AccountSessions = ReturnType<typeof createAccountSessions>
