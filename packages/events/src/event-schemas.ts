// Every event type is declared here once: producers build events with `createEvent`, consumers
// accept them only through `parseEvent`, and both sides import the same TypeScript types.
import { randomUUID } from 'node:crypto'
import Type, { type Static, type TProperties } from 'typebox'
import { Compile } from 'typebox/compile'

const Uuid = Type.String({ format: 'uuid' })
const Timestamp = Type.String({ format: 'date-time' })
// Login events carry what a person typed, which may not be an address at all: bounded, not validated.
const Email = Type.String({ minLength: 1, maxLength: 320 })
const Role = Type.Union([Type.Literal('member'), Type.Literal('admin')])
const MemberRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')])

// Unknown extra properties are tolerated (not rejected) so that a consumer still running the
// previous release keeps accepting events from a producer that has added a field.
function eventSchema<const TypeName extends string, const Payload extends TProperties>(
  type: TypeName,
  payload: Payload,
) {
  return Type.Object({ id: Uuid, type: Type.Literal(type), occurredAt: Timestamp, ...payload })
}

const Method = Type.Union([Type.Literal('password'), Type.Literal('saml')])
/**
 * How the session that acted was authenticated (CONTRACT.md: every event says so): a SAML
 * session names the workspace whose IdP made it.
 */
const ActingSession = Type.Object({
  // `setup_link`: the holder of a setup link the workspace's owner created (no session, no account).
  method: Type.Union([Type.Literal('password'), Type.Literal('saml'), Type.Literal('setup_link')]),
  workspaceId: Type.Optional(Uuid),
})

const invitationSummary = {
  invitationId: Uuid,
  workspaceId: Uuid,
  email: Email,
  actingSession: Type.Optional(ActingSession),
  // Who acted and from which address: what auth's audit trail records of the change.
  by: Type.Optional(Uuid),
  ip: Type.Optional(Type.String({ maxLength: 64 })),
}

const loginPayload = {
  userId: Type.Optional(Uuid),
  email: Email,
  workspaceId: Type.Optional(Uuid),
  method: Method,
  connectionId: Type.Optional(Uuid),
  ip: Type.String({ maxLength: 64 }),
  userAgent: Type.String({ maxLength: 8192 }),
  reason: Type.Optional(Type.String({ maxLength: 200 })),
  /** SAML only: `sp` when the sign-in answered a request Gatehouse started, `idp` when unsolicited. */
  initiation: Type.Optional(Type.Union([Type.Literal('sp'), Type.Literal('idp')])),
  /** SAML successes: SHA-256 fingerprint of the IdP certificate that verified the signature. */
  certificateFingerprint: Type.Optional(Type.String({ pattern: '^[0-9A-F]{2}(:[0-9A-F]{2}){31}$' })),
  /** Refusals: the error code the person was answered with (`saml_invalid`, `sso_not_allowed`, …). */
  code: Type.Optional(Type.String({ maxLength: 64 })),
  /** Refusals: the message the person was shown, which says what to fix. */
  message: Type.Optional(Type.String({ maxLength: 1000 })),
}

export const eventSchemas = {
  'invitation.accepted': eventSchema('invitation.accepted', {
    ...invitationSummary,
    userId: Uuid,
    role: Role,
    acceptedAt: Timestamp,
  }),
  'invitation.created': eventSchema('invitation.created', { ...invitationSummary, role: Type.Optional(Role) }),
  // A new link and lifetime for a pending invitation, and its email again.
  'invitation.resent': eventSchema('invitation.resent', invitationSummary),
  'invitation.revoked': eventSchema('invitation.revoked', invitationSummary),
  'auth.login.succeeded': eventSchema('auth.login.succeeded', loginPayload),
  'auth.login.failed': eventSchema('auth.login.failed', loginPayload),
  // The session that ended, how it had been authenticated, and why it ended: `signed_out`,
  // `connection_changed` when the connection that made it was turned off, re-pointed or deleted,
  // `ended_elsewhere` when the person ended it from another session, `membership_removed` when its
  // person was removed from (or left) the workspace it reached, `password_reset` (every session of
  // the account), `password_changed` (the account's other ones), or `ended_by_link` when the
  // person followed the link in the email of a first sign-in through an IdP.
  'auth.logout': eventSchema('auth.logout', {
    userId: Uuid,
    sessionId: Type.String({ minLength: 1, maxLength: 200 }),
    method: Method,
    workspaceId: Type.Optional(Uuid),
    connectionId: Type.Optional(Uuid),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  // Who the workspace's IdP is (or whether it may sign people in) changed; `notify` holds the
  // owners' addresses at the time, whom the invitation service's mailer tells. A change the
  // scheduled (or on-demand) metadata refresh applied says `via: "metadata_refresh"` and has no
  // `by` or `actingSession`: no session acted.
  'sso.connection.changed': eventSchema('sso.connection.changed', {
    workspaceId: Uuid,
    workspaceName: Type.String({ maxLength: 200 }),
    connectionId: Uuid,
    what: Type.Union([
      Type.Literal('idp_configured'),
      // A certificate added beside the current ones (rollover), or one removed: `fingerprints`.
      Type.Literal('certificate_added'),
      Type.Literal('certificate_removed'),
      Type.Literal('idp_initiated_enabled'),
      Type.Literal('enabled'),
      Type.Literal('disabled'),
      Type.Literal('deleted'),
    ]),
    by: Type.Optional(Uuid),
    actingSession: Type.Optional(ActingSession),
    via: Type.Optional(Type.Literal('metadata_refresh')),
    fingerprints: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 20 })),
    notify: Type.Array(Email, { maxItems: 100 }),
  }),
  // The IdP's metadata URL could not be read, or says something a refresh does not apply on its own
  // (another entity ID or Login URL): nothing changed, and the owners are told what to do, once per
  // problem (not at every refresh while it lasts).
  'sso.metadata.problem': eventSchema('sso.metadata.problem', {
    workspaceId: Uuid,
    workspaceName: Type.String({ maxLength: 200 }),
    connectionId: Uuid,
    kind: Type.Union([Type.Literal('unreadable'), Type.Literal('change_refused')]),
    reason: Type.String({ maxLength: 64 }),
    message: Type.String({ maxLength: 1000 }),
    metadataUrl: Type.String({ maxLength: 2048 }),
    notify: Type.Array(Email, { maxItems: 100 }),
  }),
  // An IdP certificate of the connection expires within `daysLeft` days (30, 7 or 1): announced once
  // per certificate and threshold; `notify` holds the owners' and admins' addresses.
  'sso.certificate.expiring': eventSchema('sso.certificate.expiring', {
    workspaceId: Uuid,
    workspaceName: Type.String({ maxLength: 200 }),
    connectionId: Uuid,
    fingerprint: Type.String({ maxLength: 128 }),
    notAfter: Timestamp,
    daysLeft: Type.Integer({ minimum: 1, maximum: 30 }),
    notify: Type.Array(Email, { maxItems: 100 }),
  }),
  // An owner used their password to reach a workspace that requires SSO (recovery); `notify` holds
  // the other owners' and the admins' addresses.
  'sso.recovery.used': eventSchema('sso.recovery.used', {
    workspaceId: Uuid,
    workspaceName: Type.String({ maxLength: 200 }),
    connectionId: Type.Optional(Uuid),
    by: Uuid,
    actingSession: ActingSession,
    notify: Type.Array(Email, { maxItems: 100 }),
  }),
  // Someone asked for a password reset link for `email` (an account may or may not hold it): auth's
  // own workers issue the link off the request path, so the answer and its timing never say which.
  'auth.password.reset_requested': eventSchema('auth.password.reset_requested', {
    email: Email,
    ip: Type.String({ maxLength: 64 }),
    userAgent: Type.String({ maxLength: 1024 }),
  }),
  // A mailed link for the account's address (confirmation: 24 h; password reset: 30 min), which
  // the invitation service's mailer sends. The token is sealed for the services holding
  // INTERNAL_TOKEN (`@gatehouse/server/sealed-token`): other subscribers see ciphertext only.
  'auth.link.issued': eventSchema('auth.link.issued', {
    userId: Uuid,
    email: Email,
    purpose: Type.Union([Type.Literal('confirm_email'), Type.Literal('reset_password')]),
    linkId: Uuid,
    sealedToken: Type.String({ maxLength: 512 }),
    expiresAt: Timestamp,
  }),
  // The account's address was proven: by a confirmation link, a reset link, or an invitation link.
  'auth.email.confirmed': eventSchema('auth.email.confirmed', {
    userId: Uuid,
    email: Email,
    via: Type.Union([Type.Literal('confirmation_link'), Type.Literal('reset_link'), Type.Literal('invitation_link')]),
  }),
  // The password was set through a mailed link (a reset; `reclaimed` when the address's owner took
  // back an unproven account someone else had made): every session of the account ended.
  'auth.password.reset': eventSchema('auth.password.reset', {
    userId: Uuid,
    email: Email,
    via: Type.Union([Type.Literal('reset_link'), Type.Literal('confirmation_link'), Type.Literal('invitation_link')]),
    reclaimed: Type.Boolean(),
    endedSessions: Type.Integer({ minimum: 0 }),
    ip: Type.String({ maxLength: 64 }),
    userAgent: Type.String({ maxLength: 1024 }),
  }),
  // The signed-in person changed their password (they gave the current one): the other sessions ended.
  'auth.password.changed': eventSchema('auth.password.changed', {
    userId: Uuid,
    email: Email,
    actingSession: ActingSession,
    endedSessions: Type.Integer({ minimum: 0 }),
    ip: Type.String({ maxLength: 64 }),
    userAgent: Type.String({ maxLength: 1024 }),
  }),
  // Something was done through a setup link (the owner who created it is told): opened for the
  // first time, SSO turned on, a test sign-in run. Its IdP changes go out as sso.connection.changed.
  'sso.setup_link.used': eventSchema('sso.setup_link.used', {
    workspaceId: Uuid,
    workspaceName: Type.String({ maxLength: 200 }),
    setupLinkId: Uuid,
    what: Type.Union([Type.Literal('opened'), Type.Literal('sso_turned_on'), Type.Literal('test_sign_in')]),
    ip: Type.String({ maxLength: 64 }),
    notify: Type.Array(Email, { maxItems: 100 }),
  }),
  // A person signed in through an IdP (a connection, at an IdP Entity ID) that had not signed them
  // in before: the invitation service's mailer tells them which workspace's IdP it was, with a
  // link that ends that session. `endLink` is the link's single-use token, sealed for the services
  // with the session's id as additional data (`@gatehouse/server/sealed-token`): readable
  // neither in the outbox nor in Redis. `userId` and `workspaceName` are added by the statement
  // that opens the session (auth's openSsoSession).
  'sso.first_sign_in': eventSchema('sso.first_sign_in', {
    userId: Type.Optional(Uuid),
    sessionId: Uuid,
    email: Email,
    workspaceId: Uuid,
    workspaceName: Type.Optional(Type.String({ maxLength: 200 })),
    connectionId: Uuid,
    idpEntityId: Type.String({ maxLength: 1024 }),
    ip: Type.String({ maxLength: 64 }),
    userAgent: Type.String({ maxLength: 8192 }),
    endLink: Type.String({ minLength: 1, maxLength: 1024 }),
  }),
  // A person's membership of a workspace ended: removed by an owner or admin (`by` is not `userId`),
  // or they left (`by` is `userId`). `email` and `workspaceName` let the invitation service keep its
  // views true and tell the person; `role` is the one they held. When the address's owner reclaimed
  // an unproven account (`by` is that account), `reason` says so: `account_reclaimed` for its own
  // memberships, `workspace_deleted` for every membership of a workspace it alone owned, which went
  // with them; the invitation service then revokes the invitations left pending there.
  'membership.removed': eventSchema('membership.removed', {
    workspaceId: Uuid,
    workspaceName: Type.String({ maxLength: 200 }),
    userId: Uuid,
    email: Email,
    role: MemberRole,
    by: Uuid,
    actingSession: ActingSession,
    reason: Type.Optional(Type.Union([Type.Literal('account_reclaimed'), Type.Literal('workspace_deleted')])),
  }),
  // A member's role changed (owners make and unmake admins; an ownership transfer changes two roles).
  'membership.role_changed': eventSchema('membership.role_changed', {
    workspaceId: Uuid,
    userId: Uuid,
    role: MemberRole,
    previousRole: MemberRole,
    by: Uuid,
    actingSession: ActingSession,
  }),
}

export type InvitationAccepted = Static<(typeof eventSchemas)['invitation.accepted']>
export type InvitationCreated = Static<(typeof eventSchemas)['invitation.created']>
export type InvitationRevoked = Static<(typeof eventSchemas)['invitation.revoked']>
export type InvitationResent = Static<(typeof eventSchemas)['invitation.resent']>
export type LoginSucceeded = Static<(typeof eventSchemas)['auth.login.succeeded']>
export type LoginFailed = Static<(typeof eventSchemas)['auth.login.failed']>
export type Logout = Static<(typeof eventSchemas)['auth.logout']>
export type SsoConnectionChanged = Static<(typeof eventSchemas)['sso.connection.changed']>
export type SsoRecoveryUsed = Static<(typeof eventSchemas)['sso.recovery.used']>
export type SsoMetadataProblem = Static<(typeof eventSchemas)['sso.metadata.problem']>
export type SsoCertificateExpiring = Static<(typeof eventSchemas)['sso.certificate.expiring']>
export type PasswordResetRequested = Static<(typeof eventSchemas)['auth.password.reset_requested']>
export type LinkIssued = Static<(typeof eventSchemas)['auth.link.issued']>
export type EmailConfirmed = Static<(typeof eventSchemas)['auth.email.confirmed']>
export type PasswordReset = Static<(typeof eventSchemas)['auth.password.reset']>
export type PasswordChanged = Static<(typeof eventSchemas)['auth.password.changed']>
export type SsoSetupLinkUsed = Static<(typeof eventSchemas)['sso.setup_link.used']>
export type SsoFirstSignIn = Static<(typeof eventSchemas)['sso.first_sign_in']>
export type MembershipRemoved = Static<(typeof eventSchemas)['membership.removed']>
export type MembershipRoleChanged = Static<(typeof eventSchemas)['membership.role_changed']>

export type GatehouseEvent =
  | InvitationAccepted
  | InvitationCreated
  | InvitationRevoked
  | InvitationResent
  | LoginSucceeded
  | LoginFailed
  | Logout
  | SsoConnectionChanged
  | SsoRecoveryUsed
  | SsoMetadataProblem
  | SsoCertificateExpiring
  | PasswordResetRequested
  | LinkIssued
  | EmailConfirmed
  | PasswordReset
  | PasswordChanged
  | SsoSetupLinkUsed
  | SsoFirstSignIn
  | MembershipRemoved
  | MembershipRoleChanged
export type EventType = GatehouseEvent['type']
export type EventOf<T extends EventType> = Extract<GatehouseEvent, { type: T }>
export type PayloadOf<T extends EventType> = Omit<EventOf<T>, 'id' | 'type' | 'occurredAt'>
/** The events carried by the `invitation-events` queue. */
export type InvitationEvent = Extract<GatehouseEvent, { type: `invitation.${string}` }>
/** The events carried by the `auth-events` fan-out stream (auth's own announcements). */
export type AuthEvent = Extract<GatehouseEvent, { type: `auth.${string}` | `sso.${string}` | `membership.${string}` }>

export const eventTypes = Object.keys(eventSchemas) as EventType[]

/** Thrown when a value is not a well-formed Gatehouse event; `code` is stable for callers to branch on. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError'
  readonly code = 'invalid_event'
  /** Where the value broke the schema (JSON pointer and reason), for logs. */
  readonly problems: { path: string; message: string }[]
  constructor(message: string, problems: { path: string; message: string }[] = []) {
    super(message)
    this.problems = problems
  }
}

const validators = new Map(
  Object.entries(eventSchemas).map(([type, schema]) => [type, Compile(schema as (typeof eventSchemas)[EventType])]),
)

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && validators.has(value)
}

export function isInvitationEvent(event: GatehouseEvent): event is InvitationEvent {
  return event.type.startsWith('invitation.')
}

export function isAuthEvent(event: GatehouseEvent): event is AuthEvent {
  return event.type.startsWith('auth.') || event.type.startsWith('sso.') || event.type.startsWith('membership.')
}

/** Validates an untrusted value (a queue job's data, a stream entry) and returns it as a typed event. */
export function parseEvent(value: unknown): GatehouseEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEventError('an event is a JSON object')
  }
  const type = (value as { type?: unknown }).type
  const validator = typeof type === 'string' ? validators.get(type) : undefined
  if (!validator) {
    throw new InvalidEventError(`unknown event type ${JSON.stringify(String(type)).slice(0, 80)}`)
  }
  if (!validator.Check(value)) {
    const problems = validator
      .Errors(value)
      .slice(0, 10)
      .map((error) => ({ path: error.instancePath || '/', message: error.message }))
    throw new InvalidEventError(`malformed ${type} event`, problems)
  }
  return value as GatehouseEvent
}

/** Parses the JSON text of an event, as stored in a stream entry. */
export function parseEventJson(text: string): GatehouseEvent {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidEventError('an event is JSON text')
  }
  return parseEvent(value)
}

/**
 * Builds an event with a fresh id and validates it, so a producer's mistake fails where it is
 * made rather than in every consumer.
 */
export function createEvent<T extends EventType>(type: T, payload: PayloadOf<T>, now: Date = new Date()): EventOf<T> {
  const event = { ...payload, id: randomUUID(), type, occurredAt: now.toISOString() }
  return parseEvent(event) as EventOf<T>
}
