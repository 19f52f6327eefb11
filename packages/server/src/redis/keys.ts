// Every key the services keep in Redis, in one place. The services share one Redis, run with
// `noeviction`, so each family has a prefix of its own and every key a lifetime: what lives
// longest is bounded below. Besides these: BullMQ's `bull:<queue>:*` (the invitation-events and
// email queues, and auth's sso-upkeep schedulers, trimmed by their jobs' removeOn* options) and the `auth-events` stream (trimmed to
// its MAXLEN by every append), both named in @gatehouse/events.

/** The prefixes of every family below: a key outside them is an undeclared one (a test checks). */
export const redisKeyPrefixes = [
  'ratelimit:',
  'login-failures:',
  'login-networks:',
  'saml:confirm:',
  'saml:assertion:',
  'saml:answered-start:',
  'saml:test-mark:',
  'saml:test-result:',
  'auth-events:published:',
]

/**
 * Not a key: the pub/sub channel on which auth announces the token hashes of sessions it ended
 * (session-revocations.ts). Pub/sub keeps nothing, so it needs no prefix or lifetime.
 */
export const revokedSessionsChannel = 'gatehouse:sessions:revoked'

/** A rate limit's fixed-window counter (rate-limit.ts): lives one window of its rule. */
export function rateLimitKey(rule: string, subject: string): string {
  return `ratelimit:${rule}:${subject}`
}

/** Wrong passwords for an email: per network, and from networks it never signed in from. */
export const loginFailures = {
  pair: (email: string, network: string) => `login-failures:${email}:${network}`,
  strangers: (email: string) => `login-failures:${email}`,
  /** Kept this long after the last failure, at most (the longest back-off). */
  maxSeconds: 15 * 60,
}

/** The networks an email signed in from (a set of at most 20): 90 days after the last success. */
export const loginNetworks = {
  key: (email: string) => `login-networks:${email}`,
  seconds: 90 * 24 * 3600,
  maxMembers: 20,
}

/** An unsolicited SAML sign-in waiting for the person's confirmation: taken once, or gone after 5 minutes. */
export const samlConfirmation = {
  key: (token: string) => `saml:confirm:${token}`,
  seconds: 5 * 60,
}

/**
 * A test sign-in (auth's test-sign-in.ts): who is testing, for as long as a sign-in may take
 * (the pending sign-in's lifetime), taken once by the ACS; then its result for that tester (a
 * workspace admin's id, or `link:<id>` for a setup link's holder), kept an hour.
 */
export const samlTestSignIn = {
  markKey: (testId: string) => `saml:test-mark:${testId}`,
  resultKey: (workspaceId: string, tester: string) => `saml:test-result:${workspaceId}:${tester}`,
  resultSeconds: 60 * 60,
}

/**
 * An accepted assertion, so its replay is refused: until the assertion stops being valid, which
 * the SAML core caps at 24 hours after its issue (MAX_ASSERTION_VALIDITY_MS).
 */
export function samlAssertionKey(connectionId: string, assertionDigest: string): string {
  return `saml:assertion:${connectionId}:${assertionDigest}`
}

/**
 * An SP-initiated start that was answered: its AuthnRequest ID is used once, so neither a second
 * genuine response to it nor its captured cookie signs in again. Written only for a response whose
 * signature held (unauthenticated traffic writes nothing), and kept until the start itself expires.
 */
export function samlAnsweredStartKey(connectionId: string, requestId: string): string {
  return `saml:answered-start:${connectionId}:${requestId}`
}

/**
 * That an event id was appended to a stream, so the relay's retry appends it once. The relay
 * publishes a row again only if it crashed between XADD and marking the row, and it retries within
 * seconds, so a day is ample; consumers stay idempotent on the id for anything older.
 */
export const publishedMarker = {
  key: (stream: string, eventId: string) => `${stream}:published:${eventId}`,
  seconds: 24 * 60 * 60,
}
