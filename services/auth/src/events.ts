import { createEvent, type OutboxTable, outboxInsert, type PayloadOf, writeEvent, writeEvents } from '@gatehouse/events'
import type { TokenSeal } from '@gatehouse/server/sealed-token'
import type { AuthDatabase, EndedSession, Executor } from './sessions/repo.ts'
import { authenticationView } from './sessions/service.ts'

/** Who tried to sign in and how: the shared fields of `auth.login.*` (CONTRACT.md "Events"). */
export interface LoginAttempt {
  email: string
  method: 'password' | 'saml'
  ip: string
  userAgent: string
  userId?: string | undefined
  workspaceId?: string | undefined
  connectionId?: string | undefined
  initiation?: 'sp' | 'idp' | undefined
  certificateFingerprint?: string | undefined
}

/** What a refused person was answered: the error code, its reason and the message shown. */
export interface LoginRefusal {
  reason: string
  code?: string
  message?: string
}

/** Why a session ended (`auth.logout`'s `reason`). */
export type LogoutReason =
  | 'signed_out'
  | 'connection_changed'
  | 'ended_elsewhere'
  | 'membership_removed'
  | 'password_reset'
  | 'password_changed'
  | 'ended_by_link'

/**
 * Writes auth events into the outbox inside the caller's transaction; `wake` (the relay's) is
 * called by the caller after commit so the event leaves at once. A transaction that ends sessions
 * runs through `transaction`, which after the commit also announces the ended sessions
 * (`announceRevoked`) so that every service stops honouring them before the caller answers.
 */
export function createAuthEvents(deps: {
  outbox: OutboxTable
  wake: () => void
  seal: TokenSeal
  announceRevoked: (tokenHashes: string[]) => Promise<void>
}) {
  // The sessions each open `transaction` has ended so far, by its transaction handle.
  const endedIn = new WeakMap<Executor, string[]>()
  return {
    wake: deps.wake,
    /**
     * Runs `work` in a transaction; after the commit, wakes the relay and announces the sessions
     * `logout` ended in it (awaited: a signed-out session is refused everywhere once this returns).
     */
    async transaction<T>(db: AuthDatabase, work: (tx: Executor) => Promise<T>): Promise<T> {
      const ended: string[] = []
      const result = await db.transaction(async (tx) => {
        endedIn.set(tx, ended)
        return work(tx)
      })
      deps.wake()
      if (ended.length > 0) await deps.announceRevoked(ended)
      return result
    },
    /** The outbox INSERT of a successful login, to be run with its session (`sessions.open`). */
    loginSucceeded: (tx: Executor, attempt: LoginAttempt) =>
      outboxInsert(tx, deps.outbox, [createEvent('auth.login.succeeded', compact(attempt))]),
    /** A successful login's event, for a statement that inserts it itself (openSsoSession). */
    loginSucceededEvent: (attempt: LoginAttempt) => createEvent('auth.login.succeeded', compact(attempt)),
    /**
     * The announcement of a first sign-in through an IdP, for openSsoSession to insert if it is
     * one: the link's token travels sealed for the session (only the invitation service's mailer
     * opens it).
     */
    firstSignInEvent: (
      signIn: Omit<PayloadOf<'sso.first_sign_in'>, 'endLink' | 'userId' | 'workspaceName'>,
      endLinkToken: string,
    ) =>
      createEvent('sso.first_sign_in', {
        ...signIn,
        email: signIn.email.slice(0, 320),
        ip: signIn.ip.slice(0, 64),
        userAgent: signIn.userAgent.slice(0, 1024),
        idpEntityId: signIn.idpEntityId.slice(0, 1024),
        endLink: deps.seal.seal(endLinkToken, signIn.sessionId),
      }),
    loginFailed: (tx: Executor, attempt: LoginAttempt, refusal: LoginRefusal) =>
      writeEvent(
        tx,
        deps.outbox,
        createEvent('auth.login.failed', {
          ...compact(attempt),
          reason: refusal.reason.slice(0, 200),
          ...(refusal.code ? { code: refusal.code.slice(0, 64) } : {}),
          ...(refusal.message ? { message: refusal.message.slice(0, 1000) } : {}),
        }),
      ),
    /** One `auth.logout` per ended session, saying how it had been authenticated and why it ended. */
    logout: (tx: Executor, ended: EndedSession[], reason: LogoutReason) => {
      const announced = endedIn.get(tx)
      if (!announced) throw new Error('sessions end inside events.transaction, which announces them after the commit')
      announced.push(...ended.map((session) => session.tokenHash))
      return writeEvents(
        tx,
        deps.outbox,
        ended.map((session) =>
          createEvent('auth.logout', {
            userId: session.userId,
            sessionId: session.id,
            ...authenticationView(session),
            reason,
          }),
        ),
      )
    },
    connectionChanged: (tx: Executor, change: PayloadOf<'sso.connection.changed'>) =>
      writeEvent(tx, deps.outbox, createEvent('sso.connection.changed', change)),
    recoveryUsed: (tx: Executor, recovery: PayloadOf<'sso.recovery.used'>) =>
      writeEvent(tx, deps.outbox, createEvent('sso.recovery.used', recovery)),
    metadataProblem: (tx: Executor, problem: PayloadOf<'sso.metadata.problem'>) =>
      writeEvent(tx, deps.outbox, createEvent('sso.metadata.problem', problem)),
    certificateExpiring: (tx: Executor, notice: PayloadOf<'sso.certificate.expiring'>, now: Date) =>
      writeEvent(tx, deps.outbox, createEvent('sso.certificate.expiring', notice, now)),
    /** An account event (reset requests, mailed links, proof of address, password changes). */
    account: <T extends AccountEventType>(tx: Executor, type: T, payload: PayloadOf<T>) =>
      writeEvent(tx, deps.outbox, createEvent(type, payload)),
    setupLinkUsed: (tx: Executor, use: PayloadOf<'sso.setup_link.used'>) =>
      writeEvent(tx, deps.outbox, createEvent('sso.setup_link.used', use)),
    membershipRemoved: (tx: Executor, removal: PayloadOf<'membership.removed'>) =>
      writeEvent(tx, deps.outbox, createEvent('membership.removed', removal)),
    roleChanged: (tx: Executor, changes: PayloadOf<'membership.role_changed'>[]) =>
      writeEvents(
        tx,
        deps.outbox,
        changes.map((change) => createEvent('membership.role_changed', change)),
      ),
  }
}

export type AuthEvents = ReturnType<typeof createAuthEvents>

type AccountEventType =
  | 'auth.password.reset_requested'
  | 'auth.link.issued'
  | 'auth.email.confirmed'
  | 'auth.password.reset'
  | 'auth.password.changed'

// Optional payload fields are left out rather than sent as undefined/null; long values are cut
// to the bounds the event schema allows.
function compact(attempt: LoginAttempt) {
  return {
    email: attempt.email.slice(0, 320) || '(empty)',
    method: attempt.method,
    ip: attempt.ip.slice(0, 64),
    userAgent: attempt.userAgent.slice(0, 1024),
    ...(attempt.userId ? { userId: attempt.userId } : {}),
    ...(attempt.workspaceId ? { workspaceId: attempt.workspaceId } : {}),
    ...(attempt.connectionId ? { connectionId: attempt.connectionId } : {}),
    ...(attempt.initiation ? { initiation: attempt.initiation } : {}),
    ...(attempt.certificateFingerprint ? { certificateFingerprint: attempt.certificateFingerprint } : {}),
  }
}
