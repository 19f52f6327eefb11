import { outboxTable } from '@gatehouse/events'
import { sql } from 'drizzle-orm'
import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { idpKinds } from '../sso/idp-kinds.ts'

export const authSchema = pgSchema('auth')

/** How an address was proven. */
export const emailProofs = ['confirmation_link', 'reset_link', 'invitation_link', 'before_proof'] as const
export type EmailProof = (typeof emailProofs)[number]

/**
 * One person. `createdVia` records how the account was made: only `password` accounts may use SSO.
 * `emailConfirmedAt` is when the address was proven (a mailed link was used, or the account was
 * made from an invitation link); until then the account cannot accept invitations or use SSO, and
 * the address's owner may reclaim it. Accounts made before proof existed count as proven
 * (`emailConfirmedVia: 'before_proof'`, set by migration 0010).
 */
export const users = authSchema.table(
  'users',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    email: text('email').notNull(),
    passwordHash: text('password_hash'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    createdVia: text('created_via', { enum: ['password'] }).notNull(),
    emailConfirmedAt: timestamp('email_confirmed_at', { withTimezone: true }),
    emailConfirmedVia: text('email_confirmed_via', { enum: emailProofs }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('users_email_key').on(table.email)],
)

/**
 * One authentication of a browser: by the account's password, or by SAML through connection
 * `connectionId` of workspace `workspaceId` (which then bounds what it reaches: CONTRACT.md
 * "Sessions and what they reach"). A browser's `session` cookie names up to a few of these rows,
 * all of one user. Only the SHA-256 of each token is kept.
 */
export const sessions = authSchema.table(
  'sessions',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    method: text('method', { enum: ['password', 'saml'] }).notNull(),
    connectionId: uuid('connection_id'),
    workspaceId: uuid('workspace_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    // Set when the person re-entered their password in this session (POST /v1/auth/reauthenticate):
    // an admin may change who the workspace's IdP is only shortly after.
    reauthenticatedAt: timestamp('reauthenticated_at', { withTimezone: true }),
    // A password session an owner used to recover this workspace while it requires SSO (audited).
    recoveryWorkspaceId: uuid('recovery_workspace_id'),
    // The hash of the single-use token in the "was this you?" email of a first sign-in through an
    // IdP (sso_first_sign_ins): the link ends this session alone. Null for every other session.
    endLinkHash: text('end_link_hash'),
    // The fingerprint of the IdP certificate that signed an SSO sign-in: removing that certificate
    // ends this session. Null for password sessions and SSO ones opened before it was recorded.
    signingCertificateFingerprint: text('signing_certificate_fingerprint'),
  },
  (table) => [
    uniqueIndex('sessions_token_hash_key').on(table.tokenHash),
    uniqueIndex('sessions_end_link_hash_key').on(table.endLinkHash),
    index('sessions_user_idx').on(table.userId),
    // Ending every session a connection opened, when it is turned off or re-pointed.
    index('sessions_connection_idx').on(table.connectionId),
  ],
)

/**
 * A link mailed to an account's address: confirm it (24 hours) or reset its password (30 minutes).
 * Single use (`usedAt`); only the SHA-256 of its 256-bit token is kept. `requestEventId` is the
 * `auth.password.reset_requested` event a reset link answers, so handling that event twice issues
 * one link.
 */
export const accountLinks = authSchema.table(
  'account_links',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: ['confirm_email', 'reset_password'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    requestEventId: uuid('request_event_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('account_links_token_hash_key').on(table.tokenHash),
    uniqueIndex('account_links_request_event_key').on(table.requestEventId),
    index('account_links_user_idx').on(table.userId, table.purpose),
  ],
)

export const workspaces = authSchema.table('workspaces', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  name: text('name').notNull(),
  createdBy: uuid('created_by')
    .notNull()
    .references(() => users.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

export const roles = ['owner', 'admin', 'member'] as const
export type Role = (typeof roles)[number]

/**
 * A person's place in a workspace. `ssoAllowed` is what CONTRACT.md's rule checks; `source` says
 * where the membership came from: the workspace's creator, or an accepted invitation.
 */
export const memberships = authSchema.table(
  'memberships',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: roles }).notNull(),
    ssoAllowed: boolean('sso_allowed').notNull(),
    source: text('source', { enum: ['creator', 'invitation'] }).notNull(),
    invitationId: uuid('invitation_id'),
    // The names this workspace's IdP gives the person: shown in this workspace only, never copied
    // to the account (one workspace's IdP speaks for that workspace alone).
    idpFirstName: text('idp_first_name'),
    idpLastName: text('idp_last_name'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.workspaceId, table.userId] }),
    index('memberships_user_idx').on(table.userId),
  ],
)

/** What `certificates` holds: what the admin is shown, and the PEM the signature is checked with. */
export interface StoredCertificate {
  pem: string
  fingerprintSha256: string
  subject: string
  notBefore: string
  notAfter: string
}

/**
 * One SP signing key of a connection (`spSigningKeys`, newest first: the first signs). The
 * certificate is public (it is in the SP metadata); the private key is sealed (src/sso/sp-keys.ts).
 */
export interface StoredSpSigningKey {
  id: string
  certificatePem: string
  sealedPrivateKey: string
  createdAt: string
}

/** Why the last metadata refresh did not apply: `unreadable` (fetch or parse) or `change_refused`. */
export interface MetadataProblem {
  kind: 'unreadable' | 'change_refused'
  reason: string
  message: string
  since: string
}

/** A workspace's SAML connection (one per workspace). The IdP half is null until the admin saves it. */
export const ssoConnections = authSchema.table(
  'sso_connections',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    enabled: boolean('enabled').notNull().default(true),
    allowIdpInitiated: boolean('allow_idp_initiated').notNull().default(false),
    // While on (and the connection enabled), members reach the workspace only through its IdP.
    requireSso: boolean('require_sso').notNull().default(false),
    // Which IdP the admin set up (picks the page's guidance and the refusals' advice, no SAML rule).
    idpKind: text('idp_kind', { enum: idpKinds }).notNull().default('entra'),
    idpSsoUrl: text('idp_sso_url'),
    idpEntityId: text('idp_entity_id'),
    idpCertificates: jsonb('idp_certificates').$type<StoredCertificate[]>(),
    // The email from an attribute instead of the NameID (IdPs whose NameID is persistent or transient).
    emailFromAttribute: boolean('email_from_attribute').notNull().default(false),
    // RSA-SHA1 / SHA-1 digests accepted from this IdP: only the owner may turn it on.
    allowSha1: boolean('allow_sha1').notNull().default(false),
    // Sign AuthnRequests: the admin's choice, on by default when the IdP metadata wants them signed.
    signAuthnRequests: boolean('sign_authn_requests').notNull().default(false),
    // The imported IdP metadata said WantAuthnRequestsSigned="true" (shown on the settings page).
    idpWantsSignedRequests: boolean('idp_wants_signed_requests').notNull().default(false),
    // The IdP's federation metadata URL, when the admin gave one instead of a file: re-read on a
    // schedule (src/sso/metadata-refresh.ts), new certificates added beside the current ones.
    idpMetadataUrl: text('idp_metadata_url'),
    // When the URL was last read, and last read successfully (neither bumps `version`).
    idpMetadataCheckedAt: timestamp('idp_metadata_checked_at', { withTimezone: true }),
    idpMetadataReadAt: timestamp('idp_metadata_read_at', { withTimezone: true }),
    // What is wrong with the metadata now (unreadable, or a change a refresh may not apply alone),
    // as the owners were told; null while it reads and applies cleanly.
    idpMetadataProblem: jsonb('idp_metadata_problem').$type<MetadataProblem>(),
    // Newest first; the first signs, the others stay published in the SP metadata until retired.
    spSigningKeys: jsonb('sp_signing_keys').$type<StoredSpSigningKey[]>().notNull().default([]),
    // Bumped by every change: a login checked against a cached copy commits only if the row is
    // still this version (see openSsoSession).
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('sso_connections_workspace_key').on(table.workspaceId)],
)

/**
 * The IdPs that have signed each person in, per connection and IdP Entity ID: the first sign-in
 * through one (a new connection, or a connection re-pointed at another IdP) mails the person.
 */
export const ssoFirstSignIns = authSchema.table(
  'sso_first_sign_ins',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    idpEntityId: text('idp_entity_id').notNull(),
    firstAt: timestamp('first_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.connectionId, table.idpEntityId] })],
)

/**
 * An email domain a workspace claims, proven by a DNS TXT record holding `token`. Only a verified
 * claim routes discovery; a domain is verified by one workspace at most (the first to verify wins).
 */
export const workspaceDomains = authSchema.table(
  'workspace_domains',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    domain: text('domain').notNull(),
    token: text('token').notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('workspace_domains_workspace_domain_key').on(table.workspaceId, table.domain),
    uniqueIndex('workspace_domains_verified_domain_key').on(table.domain).where(sql`${table.verifiedAt} is not null`),
  ],
)

/**
 * The workspace's audit trail: who changed its configuration (SSO connection, certificates,
 * enforcement, domains, invitations, members and roles), when, from which address, and what changed.
 * Written in the transaction of the change (src/audit/record.ts). Certificates appear as
 * fingerprints only. `actorUserId` is the person whose authority the change was made under (for a
 * setup link, the owner who created it, with `setupLinkId` naming the link); null for the system.
 */
export const auditLog = authSchema.table(
  'audit_log',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id').notNull(),
    actorUserId: uuid('actor_user_id'),
    // How the actor was authenticated: `password`, `saml`, `setup_link`, or `system`.
    actorMethod: text('actor_method', { enum: ['password', 'saml', 'setup_link', 'system'] })
      .notNull()
      .default('password'),
    setupLinkId: uuid('setup_link_id'),
    ip: text('ip'),
    action: text('action').notNull(),
    changes: jsonb('changes').$type<Record<string, unknown>>().notNull(),
    // The event a consumer wrote this row for (changes made in another service): once per event.
    eventId: uuid('event_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('audit_log_workspace_idx').on(table.workspaceId, table.createdAt),
    uniqueIndex('audit_log_event_key').on(table.eventId),
  ],
)

/**
 * A link an owner gives the customer's IT admin: whoever holds it reaches that one workspace's SSO
 * setup (its values, the IdP's, a test sign-in, the status) and nothing else, until it expires or
 * is revoked. Only the SHA-256 of its token is kept; the token travels in the URL fragment.
 */
export const setupLinks = authSchema.table(
  'setup_links',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    // When the link was first used (its owner is told then).
    openedAt: timestamp('opened_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('setup_links_token_hash_key').on(table.tokenHash),
    index('setup_links_workspace_idx').on(table.workspaceId),
  ],
)

/**
 * Certificate expiry notices already announced: one row per certificate of a connection and
 * threshold (30, 7, 1 days), written in the transaction of its `sso.certificate.expiring` event, so
 * every replica's scheduler, before and after restarts, announces each threshold once.
 */
export const certificateExpiryNotices = authSchema.table(
  'certificate_expiry_notices',
  {
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    fingerprint: text('fingerprint').notNull(),
    thresholdDays: integer('threshold_days').notNull(),
    workspaceId: uuid('workspace_id').notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    announcedAt: timestamp('announced_at', { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.connectionId, table.fingerprint, table.thresholdDays] })],
)

/** Events already applied by this service's consumers: makes each consumer idempotent on the event id. */
export const processedEvents = authSchema.table('processed_events', {
  eventId: uuid('event_id').primaryKey(),
  type: text('type').notNull(),
  processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
})

/** Events waiting for the relay (login events), written in the same transaction as their facts. */
export const outbox = outboxTable(authSchema)

/**
 * Each workspace's SSO sign-in attempts, for its admins: a read model projected from the
 * `auth-events` stream (src/sign-in-history/projection.ts), one row per event id, kept 30 days.
 */
export const signInHistory = authSchema.table(
  'sign_in_history',
  {
    eventId: uuid('event_id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    connectionId: uuid('connection_id'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    email: text('email').notNull(),
    outcome: text('outcome', { enum: ['succeeded', 'failed'] }).notNull(),
    // Refusals only: the error code the person got, its precise reason, and what they were told.
    code: text('code'),
    reason: text('reason'),
    message: text('message'),
    // `code/reason` (e.g. saml_invalid/issuer_mismatch): what a refused member tells their admin.
    reference: text('reference'),
    initiation: text('initiation', { enum: ['sp', 'idp'] }),
    certificateFingerprint: text('certificate_fingerprint'),
    ip: text('ip').notNull(),
    // When the row was written: the projection's lag is recordedAt - occurredAt.
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('sign_in_history_workspace_idx').on(table.workspaceId, table.occurredAt, table.eventId),
    index('sign_in_history_reference_idx').on(table.workspaceId, table.reference, table.occurredAt),
    index('sign_in_history_occurred_idx').on(table.occurredAt),
  ],
)
