// The sign-in history is a read model fed by the `auth-events` stream through its own subscriber
// group, exactly as an internal service would read it (ARCHITECTURE.md "Read models"): the login
// flow does not write it, so a slow or broken history never slows or breaks a sign-in.
import { type AuthEvent, type EventsLog, subscribe } from '@gatehouse/events'
import { failureFields } from '@gatehouse/server/failures'
import type { AuthDatabase } from '../sessions/repo.ts'
import { insertSignIn, type NewSignIn, pruneSignIns } from './repo.ts'

/** The subscriber group every auth replica's projection shares: each event is handled by one of them. */
export const signInHistoryGroup = 'auth-sign-in-history'
/** How long a workspace's sign-ins are kept and shown. */
export const signInHistoryRetentionMs = 30 * 24 * 60 * 60 * 1000
const pruneIntervalMs = 60 * 60 * 1000

/** The history row an `auth.login.*` event makes; null for events that belong to no workspace. */
export function signInOf(event: AuthEvent): NewSignIn | null {
  if (event.type !== 'auth.login.succeeded' && event.type !== 'auth.login.failed') return null
  if (event.workspaceId === undefined) return null
  const failed = event.type === 'auth.login.failed'
  const code = failed ? (event.code ?? null) : null
  const reason = failed ? (event.reason ?? null) : null
  return {
    eventId: event.id,
    workspaceId: event.workspaceId,
    connectionId: event.connectionId ?? null,
    occurredAt: new Date(event.occurredAt),
    email: event.email,
    outcome: failed ? 'failed' : 'succeeded',
    code,
    reason,
    message: failed ? (event.message ?? null) : null,
    reference: code && reason ? `${code}/${reason}` : code,
    initiation: event.initiation ?? null,
    certificateFingerprint: event.certificateFingerprint ?? null,
    ip: event.ip,
  }
}

export interface SignInHistoryProjection {
  /** Resolves once the subscriber group exists and reading has begun. */
  started: Promise<unknown>
  close(): Promise<void>
}

/**
 * Consumes the stream into `auth.sign_in_history`. Delivery is at least once (a consumer killed
 * before acknowledging has its events claimed by another after `claimIdleMs`); the insert does
 * nothing for an event id already recorded, so each sign-in is one row however often it arrives.
 */
export function startSignInHistoryProjection(options: {
  db: AuthDatabase
  redisUrl: string
  log: EventsLog
  /** For tests: a stream and group of their own, a consumer name, a faster takeover. */
  stream?: string
  group?: string
  consumer?: string
  claimIdleMs?: number
  batchSize?: number
  now?: () => Date
}): SignInHistoryProjection {
  const now = options.now ?? (() => new Date())
  const oldestKept = () => new Date(now().getTime() - signInHistoryRetentionMs)
  // Not awaited: the service starts (and answers /readyz) while Redis is still coming up.
  const subscription = subscribe(
    {
      redisUrl: options.redisUrl,
      group: options.group ?? signInHistoryGroup,
      // A new group starts from the oldest entry the stream keeps, so history fills in from what
      // happened before the projection first ran (older than 30 days is skipped below).
      from: 'start',
      log: options.log,
      ...(options.stream ? { stream: options.stream } : {}),
      ...(options.consumer ? { consumer: options.consumer } : {}),
      ...(options.claimIdleMs ? { claimIdleMs: options.claimIdleMs } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    },
    async (event) => {
      const row = signInOf(event)
      if (row === null || row.occurredAt < oldestKept()) return
      await insertSignIn(options.db, row)
    },
  ).catch((error: unknown) => {
    options.log.error({ ...failureFields(error) }, 'the sign-in history projection could not subscribe')
    return null
  })
  // Every replica prunes; deleting what another already deleted is a no-op.
  const prune = () =>
    pruneSignIns(options.db, oldestKept()).catch((error: unknown) =>
      options.log.warn({ ...failureFields(error) }, 'pruning the sign-in history failed; retrying later'),
    )
  void prune()
  const timer = setInterval(prune, pruneIntervalMs)
  timer.unref()
  return {
    started: subscription,
    async close() {
      clearInterval(timer)
      await (await subscription)?.close()
    },
  }
}
