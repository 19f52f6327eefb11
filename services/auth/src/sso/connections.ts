import { randomUUID } from 'node:crypto'
import type { SsoConnectionChanged } from '@gatehouse/events'
import {
  createSamlConnection,
  type IdpConfig,
  idpCertificateFromText,
  MAX_METADATA_CERTIFICATES,
  type ParsedIdpConfig,
  SamlConfigError,
  type SamlConnection,
  type SpSigning,
  serviceProviderUrls,
  spCertificateFacts,
  spMetadataXml,
} from '@gatehouse/saml'
import { BoundedCache } from '@gatehouse/server/bounded-cache'
import { AppError, errors } from '@gatehouse/server/errors'
import type { PasswordHasher } from '../accounts/passwords.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { Role } from '../db/schema.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import {
  type AuthDatabase,
  type Executor,
  markRecovery,
  revokeConnectionSessions,
  type SessionRow,
} from '../sessions/repo.ts'
import { authenticationView } from '../sessions/service.ts'
import { findWorkspaceAccess } from '../workspaces/repo.ts'
import { type IdpConfigParser, type IdpValues, parserAdmissionKeys } from './idp-config-parser.ts'
import { type IdpKind, inIdpTerms } from './idp-kinds.ts'
import { MetadataFetchError, type MetadataFetcher } from './metadata-fetch.ts'
import {
  type ConnectionRow,
  deleteConnection,
  findConnection,
  findConnectionByWorkspace,
  findOwnerAudience,
  insertConnection,
  lockConnection,
  updateConnection,
} from './repo.ts'
import type { SpKeyVault } from './sp-keys.ts'

export interface ConnectionChanges {
  enabled?: boolean
  allowIdpInitiated?: boolean
  requireSso?: boolean
  emailFromAttribute?: boolean
  allowSha1?: boolean
  signAuthnRequests?: boolean
  idpKind?: IdpKind
}

// Keys published at once: the one that signs and those of earlier rotations not yet retired.
const MAX_SP_SIGNING_KEYS = 3

export type IdpInput = (
  | { ssoUrl: string; entityId: string; certificate: string }
  | { metadataXml: string }
  | { metadataUrl: string }
) & {
  idpKind?: IdpKind
}

/** A connection as CONTRACT.md shows it (`{connection}`); certificates as fingerprints, never PEM. */
export function connectionView(row: ConnectionRow, publicUrl: URL) {
  const idp = idpOf(row)
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    enabled: row.enabled,
    allowIdpInitiated: row.allowIdpInitiated,
    requireSso: row.requireSso,
    emailFromAttribute: row.emailFromAttribute,
    allowSha1: row.allowSha1,
    signAuthnRequests: row.signAuthnRequests,
    idpKind: row.idpKind,
    sp: {
      ...serviceProviderUrls(publicUrl, row.id),
      // Described like the IdP's; the certificates themselves are in the SP metadata.
      signingCertificates: row.spSigningKeys.map((key, index) => ({
        id: key.id,
        ...spCertificateFacts(key.certificatePem),
        createdAt: key.createdAt,
        signing: index === 0,
      })),
    },
    idp: idp && {
      ssoUrl: idp.ssoUrl,
      entityId: idp.entityId,
      certificates: idp.certificates.map(({ pem: _pem, ...shown }) => shown),
      wantAuthnRequestsSigned: row.idpWantsSignedRequests,
      metadata: row.idpMetadataUrl
        ? {
            url: row.idpMetadataUrl,
            checkedAt: row.idpMetadataCheckedAt?.toISOString() ?? null,
            readAt: row.idpMetadataReadAt?.toISOString() ?? null,
            problem: row.idpMetadataProblem,
          }
        : null,
    },
    status: !row.enabled ? ('disabled' as const) : idp ? ('active' as const) : ('awaiting_idp' as const),
  }
}

/** What the SP metadata publishes: every signing certificate, and whether requests are signed. */
export function spSigningOf(row: ConnectionRow): SpSigning {
  return {
    certificates: row.spSigningKeys.map((key) => key.certificatePem),
    authnRequestsSigned: row.signAuthnRequests && row.spSigningKeys.length > 0,
  }
}

export function idpOf(row: ConnectionRow): IdpConfig | null {
  if (!row.idpSsoUrl || !row.idpEntityId || !row.idpCertificates?.length) return null
  return { ssoUrl: row.idpSsoUrl, entityId: row.idpEntityId, certificates: row.idpCertificates }
}

/** How long after re-entering their password an admin may change who the IdP is. */
export const freshPasswordMs = 5 * 60 * 1000

/**
 * Who is changing a workspace's SSO: their role there, the sign-in they act through, and the
 * address they act from. `setupLinkId`: the holder of that setup link, acting with the consent of
 * the owner who created it (`userId`, `role: 'owner'`).
 */
export interface ConnectionActor {
  userId: string
  role: Role
  session: Pick<SessionRow, 'method' | 'workspaceId' | 'connectionId' | 'reauthenticatedAt' | 'createdAt'>
  ip: string
  setupLinkId?: string
}

/** The audit trail's view of a connection actor. */
export function auditActorOf(actor: ConnectionActor): AuditActor {
  return actor.setupLinkId
    ? { userId: actor.userId, method: 'setup_link', ip: actor.ip, setupLinkId: actor.setupLinkId }
    : { userId: actor.userId, method: actor.session.method, ip: actor.ip }
}

/** How recent the SSO sign-in of whoever turns requireSso on must be: proof the IdP works for them now. */
export const freshSsoSignInMs = 10 * 60 * 1000

type ChangeKind = SsoConnectionChanged['what']

/**
 * The admin side of a workspace's SSO: turn on, point at the IdP, toggle, remove. Callers have
 * already checked the actor is an owner or admin whose sign-in reaches the workspace. Every change
 * is audited. Whoever chooses the IdP can sign in as any member, so changing who it is (setting it,
 * IdP-initiated sign-in on, deleting) needs the owner or an admin who has just re-entered their
 * password; each such change, and turning the connection off or on, is announced to the owners
 * (`sso.connection.changed`), and ending or re-pointing the connection ends the sessions it opened.
 */
export function createConnectionService(deps: {
  db: AuthDatabase
  publicUrl: URL
  keys: SpKeyVault
  events: AuthEvents
  idpParser: IdpConfigParser
  fetchMetadata: MetadataFetcher
  passwords: Pick<PasswordHasher, 'verify'>
  now?: () => Date
}) {
  const view = (row: ConnectionRow) => connectionView(row, deps.publicUrl)
  const allowLoopbackHttp = developmentLoopback(deps.publicUrl)

  const now = deps.now ?? (() => new Date())

  // Permission first: the check comes before any parsing of what the admin sent.
  function requireOwnerOrFreshPassword(actor: ConnectionActor) {
    if (actor.role === 'owner') return
    const stamped = actor.session.reauthenticatedAt?.getTime() ?? 0
    if (actor.role === 'admin' && now().getTime() - stamped <= freshPasswordMs) return
    throw authErrors.ownerOrFreshPasswordRequired()
  }

  /** The change's announcement and the end of the sessions the connection opened (or a certificate signed), in `tx`. */
  async function announce(
    tx: Executor,
    row: ConnectionRow,
    actor: ConnectionActor,
    what: ChangeKind,
    options: { endSessions: boolean | { signedBy: string }; fingerprints?: string[] },
  ) {
    if (options.endSessions) {
      const signedBy = options.endSessions === true ? undefined : options.endSessions.signedBy
      await deps.events.logout(tx, await revokeConnectionSessions(tx, row.id, now(), signedBy), 'connection_changed')
    }
    const audience = await findOwnerAudience(tx, row.workspaceId)
    const acting: { method: 'password' | 'saml' | 'setup_link'; workspaceId?: string } = actor.setupLinkId
      ? { method: 'setup_link' }
      : authenticationView(actor.session)
    await deps.events.connectionChanged(tx, {
      workspaceId: row.workspaceId,
      workspaceName: audience.workspaceName.slice(0, 200),
      connectionId: row.id,
      what,
      by: actor.userId,
      actingSession: { method: acting.method, ...(acting.workspaceId ? { workspaceId: acting.workspaceId } : {}) },
      ...(options.fingerprints ? { fingerprints: options.fingerprints } : {}),
      notify: audience.ownerEmails.slice(0, 100),
    })
  }

  /**
   * A connection made before SP keys existed gets its first one when signing first needs it. Only
   * then is the key list written, so a stale read never undoes a rotation or retirement.
   */
  async function firstSigningKey(row: ConnectionRow) {
    return row.spSigningKeys.length > 0 ? {} : { spSigningKeys: [await deps.keys.create(row.id)] }
  }

  /** The metadata behind the URL an admin typed, or 400 `invalid_metadata_url` saying why not. */
  async function fetchForAdmin(metadataUrl: string): Promise<string> {
    try {
      return await deps.fetchMetadata(metadataUrl)
    } catch (error) {
      if (!(error instanceof MetadataFetchError)) throw error
      throw authErrors.invalidMetadataUrl(error.message, {
        reason: error.reason,
        fields: { metadataUrl: error.message },
      })
    }
  }

  async function existing(workspaceId: string): Promise<ConnectionRow> {
    const row = await findConnectionByWorkspace(deps.db, workspaceId)
    if (!row) throw authErrors.ssoNotConfigured()
    return row
  }

  return {
    async turnOn(workspaceId: string, actor: ConnectionActor) {
      // The SP signing key is made with the connection, so its certificate is in the SP metadata
      // the admin hands the IdP from the start, even while requests are not signed.
      // Checked before the key is made, so repeated requests cost no RSA key generation each.
      if (await findConnectionByWorkspace(deps.db, workspaceId)) throw authErrors.ssoExists()
      const id = randomUUID()
      const signingKey = await deps.keys.create(id)
      return deps.db.transaction(async (tx) => {
        const row = await insertConnection(tx, { id, workspaceId, spSigningKeys: [signingKey] })
        if (!row) throw authErrors.ssoExists()
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.created',
          changes: { connectionId: row.id, spSigningKey: signingKey.id },
        })
        return view(row)
      })
    },

    async get(workspaceId: string) {
      return view(await existing(workspaceId))
    },

    /** The connection, or null when SSO was never turned on. */
    async find(workspaceId: string) {
      const row = await findConnectionByWorkspace(deps.db, workspaceId)
      return row ? view(row) : null
    },

    /** Sets who the IdP is (URL, identifier, certificates): the sessions it opened before end. */
    async setIdp(workspaceId: string, actor: ConnectionActor, input: IdpInput) {
      requireOwnerOrFreshPassword(actor)
      const row = await existing(workspaceId)
      const metadataUrl = 'metadataUrl' in input ? input.metadataUrl : null
      const values =
        'metadataUrl' in input ? { metadataXml: await fetchForAdmin(input.metadataUrl) } : idpValuesOf(input)
      const parsed = await inTermsOf(input.idpKind ?? row.idpKind, () =>
        deps.idpParser.parse(
          { input: values, allowLoopbackHttp },
          parserAdmissionKeys({ workspaceId, userId: actor.userId, ip: actor.ip }),
        ),
      )
      const fingerprints = parsed.certificates.map((certificate) => certificate.fingerprintSha256)
      // saml-metadata 2.4.3: an IdP that wants signed requests gets them from now on (the admin
      // may still turn signing off); metadata that does not ask leaves the admin's choice alone.
      const signing = parsed.wantAuthnRequestsSigned ? { signAuthnRequests: true, ...(await firstSigningKey(row)) } : {}
      const result = await deps.events.transaction(deps.db, async (tx) => {
        const updated = await updateConnection(tx, row.id, {
          idpSsoUrl: parsed.ssoUrl,
          idpEntityId: parsed.entityId,
          idpCertificates: parsed.certificates,
          idpWantsSignedRequests: parsed.wantAuthnRequestsSigned,
          // Given a URL, the refresh keeps reading it; given a file or the values, nothing is re-read.
          idpMetadataUrl: metadataUrl,
          idpMetadataCheckedAt: metadataUrl === null ? null : now(),
          idpMetadataReadAt: metadataUrl === null ? null : now(),
          idpMetadataProblem: null,
          ...signing,
          ...(input.idpKind !== undefined ? { idpKind: input.idpKind } : {}),
        })
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.idp_configured',
          changes: {
            source: metadataUrl !== null ? 'metadataUrl' : 'metadataXml' in input ? 'metadata' : 'values',
            ...(metadataUrl !== null ? { metadataUrl } : {}),
            ...(input.idpKind !== undefined ? { idpKind: input.idpKind } : {}),
            ssoUrl: parsed.ssoUrl,
            entityId: parsed.entityId,
            certificateFingerprints: fingerprints,
            wantAuthnRequestsSigned: parsed.wantAuthnRequestsSigned,
          },
        })
        await announce(tx, updated, actor, 'idp_configured', { endSessions: true, fingerprints })
        return { ...view(updated), warnings: parsed.warnings }
      })
      return result
    },

    async update(workspaceId: string, actor: ConnectionActor, changes: ConnectionChanges) {
      const row = await existing(workspaceId)
      const applied: ConnectionChanges = Object.fromEntries(
        Object.entries(changes).filter(
          ([key, value]) => value !== undefined && row[key as keyof ConnectionChanges] !== value,
        ),
      )
      if (Object.keys(applied).length === 0) return view(row)
      // Unsolicited responses let the IdP sign anyone in with no request from us: the IdP's choice.
      if (applied.allowIdpInitiated === true) requireOwnerOrFreshPassword(actor)
      // Nobody locks the workspace out: SSO can be required only while the connection works, as
      // shown by the person turning it on having just signed in through it.
      if (applied.requireSso === true) {
        const signedInThrough = actor.session.method === 'saml' && actor.session.connectionId === row.id
        const fresh = now().getTime() - actor.session.createdAt.getTime() <= freshSsoSignInMs
        const active = row.enabled && applied.enabled !== false && idpOf(row) !== null
        if (!active || !signedInThrough || !fresh) throw authErrors.ssoSignInRequired()
      }
      const signingKeys = applied.signAuthnRequests ? await firstSigningKey(row) : {}
      const result = await deps.events.transaction(deps.db, async (tx) => {
        const updated = await updateConnection(tx, row.id, { ...applied, ...signingKeys })
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.updated',
          changes: { ...applied },
        })
        if (applied.enabled !== undefined) {
          const what = applied.enabled ? 'enabled' : 'disabled'
          await announce(tx, updated, actor, what, { endSessions: !applied.enabled })
        }
        if (applied.allowIdpInitiated === true) {
          await announce(tx, updated, actor, 'idp_initiated_enabled', { endSessions: false })
        }
        return view(updated)
      })
      return result
    },

    /**
     * Rotation, first half: a new SP signing key signs from now on, and the earlier keys stay
     * published in the SP metadata (the overlap) until retired, so an IdP that has not yet
     * refreshed the metadata keeps a certificate it knows.
     */
    async rotateSigningKey(workspaceId: string, actor: ConnectionActor) {
      const { id } = await existing(workspaceId)
      const signingKey = await deps.keys.create(id)
      return deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        if (!row) throw authErrors.ssoNotConfigured()
        if (row.spSigningKeys.length >= MAX_SP_SIGNING_KEYS) throw authErrors.signingKeyLimit()
        const updated = await updateConnection(tx, id, { spSigningKeys: [signingKey, ...row.spSigningKeys] })
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.signing_key_rotated',
          changes: { spSigningKey: signingKey.id, stillPublished: row.spSigningKeys.map((key) => key.id) },
        })
        return view(updated)
      })
    },

    /** Rotation, second half: an earlier key leaves the SP metadata. The key that signs cannot. */
    async retireSigningKey(workspaceId: string, actor: ConnectionActor, keyId: string) {
      const { id } = await existing(workspaceId)
      return deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        const index = row?.spSigningKeys.findIndex((key) => key.id === keyId.toLowerCase()) ?? -1
        if (!row || index === -1) throw errors.notFound('This connection has no such signing key.')
        if (index === 0) throw authErrors.signingKeyInUse()
        const updated = await updateConnection(tx, id, {
          spSigningKeys: row.spSigningKeys.filter((_, position) => position !== index),
        })
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.signing_key_retired',
          changes: { spSigningKey: keyId.toLowerCase() },
        })
        return view(updated)
      })
    },

    /**
     * Rollover, first half: a certificate beside the current ones, so responses signed with either
     * verify while the IdP switches. A new certificate is a new key that may vouch for members, so
     * it is the owner's (or a freshly re-authenticated admin's) call and announced to the owners.
     * The row's version changes, so every replica judges its next login by it (openSsoSession).
     */
    async addIdpCertificate(workspaceId: string, actor: ConnectionActor, certificateText: string) {
      requireOwnerOrFreshPassword(actor)
      const { id, idpKind } = await existing(workspaceId)
      const parsed = await inTermsOf(idpKind, () => idpCertificateFromText(certificateText))
      const { fingerprintSha256, notAfter } = parsed.certificate
      const result = await deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        if (!row) throw authErrors.ssoNotConfigured()
        const current = row.idpCertificates ?? []
        if (!idpOf(row)) throw authErrors.idpNotConfigured()
        if (current.some((known) => known.fingerprintSha256 === fingerprintSha256)) {
          throw authErrors.certificateExists()
        }
        if (current.length >= MAX_METADATA_CERTIFICATES) throw authErrors.certificateLimit()
        const updated = await updateConnection(tx, id, { idpCertificates: [...current, parsed.certificate] })
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.certificate_added',
          changes: { fingerprint: fingerprintSha256, notAfter },
        })
        await announce(tx, updated, actor, 'certificate_added', {
          endSessions: false,
          fingerprints: [fingerprintSha256],
        })
        return { ...view(updated), warnings: parsed.warnings }
      })
      deps.events.wake()
      return result
    },

    /**
     * Rollover, second half: the old certificate goes, and responses it signs are refused from the
     * next login on. The last one cannot go (409 `last_certificate`): nothing could verify sign-ins.
     */
    async removeIdpCertificate(workspaceId: string, actor: ConnectionActor, fingerprint: string) {
      requireOwnerOrFreshPassword(actor)
      const { id } = await existing(workspaceId)
      const wanted = normalizeFingerprint(fingerprint)
      const result = await deps.events.transaction(deps.db, async (tx) => {
        const row = await lockConnection(tx, id)
        const current = row?.idpCertificates ?? []
        if (!row || !current.some((known) => known.fingerprintSha256 === wanted)) {
          throw errors.notFound('This connection has no such IdP certificate.')
        }
        if (current.length === 1) throw authErrors.lastCertificate()
        const updated = await updateConnection(tx, id, {
          idpCertificates: current.filter((known) => known.fingerprintSha256 !== wanted),
        })
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.certificate_removed',
          changes: { fingerprint: wanted },
        })
        // A certificate is removed when its key is retired or leaked: the sessions it signed in end
        // (forged ones with them), and so do those opened before sessions recorded their signer.
        // Sessions the remaining certificates signed keep working, so a rollover signs no one out.
        await announce(tx, updated, actor, 'certificate_removed', {
          endSessions: { signedBy: wanted },
          fingerprints: [wanted],
        })
        return view(updated)
      })
      return result
    },

    /**
     * The owner's way back into a workspace that requires SSO when its IdP fails them: their
     * password, re-entered, lets this password session reach the workspace. Each use is audited
     * and announced (`sso.recovery.used`) to the other owners and the admins.
     */
    async recoverAsOwner(
      workspaceId: string,
      actor: { userId: string; passwordHash: string | null; sessionId: string; ip: string },
      password: string,
    ) {
      const access = await findWorkspaceAccess(deps.db, workspaceId, actor.userId)
      if (!access) throw errors.notFound('No such workspace.')
      if (access.role !== 'owner') throw errors.forbidden('Only a workspace owner can recover it with a password.')
      if (!(await deps.passwords.verify(actor.passwordHash, password))) throw authErrors.invalidCredentials()
      const audience = await findOwnerAudience(deps.db, workspaceId)
      const row = await findConnectionByWorkspace(deps.db, workspaceId)
      await deps.db.transaction(async (tx) => {
        await markRecovery(tx, actor.sessionId, workspaceId)
        await recordAudit(tx, {
          workspaceId,
          actor: { userId: actor.userId, method: 'password', ip: actor.ip },
          action: 'sso.owner_recovery',
          changes: { sessionId: actor.sessionId },
        })
        await deps.events.recoveryUsed(tx, {
          workspaceId,
          workspaceName: audience.workspaceName.slice(0, 200),
          ...(row ? { connectionId: row.id } : {}),
          by: actor.userId,
          actingSession: { method: 'password' },
          notify: audience.othersToTell(actor.userId).slice(0, 100),
        })
      })
      deps.events.wake()
    },

    async remove(workspaceId: string, actor: ConnectionActor) {
      requireOwnerOrFreshPassword(actor)
      const row = await existing(workspaceId)
      await deps.events.transaction(deps.db, async (tx) => {
        await announce(tx, row, actor, 'deleted', { endSessions: true })
        await deleteConnection(tx, row.id)
        await recordAudit(tx, {
          workspaceId,
          actor: auditActorOf(actor),
          action: 'sso.deleted',
          changes: { connectionId: row.id },
        })
      })
    },
  }
}

export type ConnectionService = ReturnType<typeof createConnectionService>

/**
 * Plain-http IdP URLs on loopback (the dev IdP) only while the product itself runs on plain http on
 * loopback, i.e. in development; a deployment's PUBLIC_URL is https.
 */
export function developmentLoopback(publicUrl: URL): boolean {
  return publicUrl.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname)
}

/**
 * Federation metadata parsed for a connection, on the parser thread like an upload: the one way an
 * upload, a metadata URL and its scheduled refresh are parsed (the same XML bounds for each).
 */
export function parseIdpMetadata(
  idpParser: IdpConfigParser,
  metadataXml: string,
  idpKind: IdpKind,
  allowLoopbackHttp: boolean,
  admissionKeys: readonly string[],
): Promise<ParsedIdpConfig> {
  return inTermsOf(idpKind, () => idpParser.parse({ input: { metadataXml }, allowLoopbackHttp }, admissionKeys))
}

/** What the parser thread is given: the IdP's values or metadata, nothing else of the request. */
function idpValuesOf(input: Exclude<IdpInput, { metadataUrl: string }>): IdpValues {
  return 'metadataXml' in input
    ? { metadataXml: input.metadataXml }
    : { ssoUrl: input.ssoUrl, entityId: input.entityId, certificate: input.certificate }
}

/** Runs a @gatehouse/saml parse whose warnings and errors are then worded for `idpKind`'s admin. */
async function inTermsOf<Parsed extends { warnings: string[] }>(
  idpKind: IdpKind,
  parse: () => Parsed | Promise<Parsed>,
): Promise<Parsed> {
  try {
    const parsed = await parse()
    return { ...parsed, warnings: parsed.warnings.map((warning) => inIdpTerms(warning, idpKind)) }
  } catch (error) {
    if (error instanceof SamlConfigError) {
      const fields = Object.fromEntries(
        Object.entries(error.fields).map(([field, message]) => [field, inIdpTerms(message, idpKind)]),
      )
      throw new AppError(400, error.reason, inIdpTerms(error.message, idpKind), { fields })
    }
    throw error
  }
}

/** A fingerprint as Entra shows a thumbprint or as we list it: any case, colons optional. */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/:/g, '').toUpperCase()
  return hex.match(/../g)?.join(':') ?? ''
}

function requestSigningOf(row: ConnectionRow, keys: SpKeyVault) {
  const { certificates, authnRequestsSigned } = spSigningOf(row)
  const [signingKey] = row.spSigningKeys
  return authnRequestsSigned && signingKey
    ? { certificates, requestSigningKey: () => keys.open(signingKey, row.id) }
    : { certificates }
}

export interface UsableConnection {
  row: ConnectionRow
  saml: SamlConnection
}

export type ConnectionCache = ReturnType<typeof createConnectionCache>

/**
 * The connections logins go through, kept in memory with their built SAML objects (parsing
 * certificates per login would cost more than the signature check). A login judges a response by
 * the cached copy and commits only if the row is still that version (openSsoSession), so a change
 * made on any replica applies to the next login at once; `fresh` reads the row again.
 */
export function createConnectionCache(deps: { db: AuthDatabase; publicUrl: URL; keys: SpKeyVault; limit?: number }) {
  const limit = deps.limit ?? 1000
  const cache = new BoundedCache<string, UsableConnection>({ capacity: limit })
  const metadata = new BoundedCache<string, string>({ capacity: limit })
  return {
    /** The enabled, configured connection; 404 `not_found` or 409 `sso_disabled` otherwise. */
    async usable(requestedId: string, options: { fresh?: boolean } = {}): Promise<UsableConnection> {
      // One entry per connection, however the id's hex digits are cased.
      const connectionId = requestedId.toLowerCase()
      const cached = cache.get(connectionId)
      if (cached && !options.fresh) return cached
      const row = await findConnection(deps.db, connectionId)
      const idp = row && idpOf(row)
      if (!row?.enabled || !idp) {
        cache.delete(connectionId)
        if (!row) throw errors.notFound('No such SSO connection.')
        throw authErrors.ssoDisabled()
      }
      const saml =
        cached?.row.version === row.version
          ? cached.saml
          : createSamlConnection({
              sp: serviceProviderUrls(deps.publicUrl, row.id),
              idp,
              allowIdpInitiated: row.allowIdpInitiated,
              allowSha1: row.allowSha1,
              emailFromAttribute: row.emailFromAttribute,
              spSigning: requestSigningOf(row, deps.keys),
            })
      const usable = { row, saml }
      cache.set(row.id, usable)
      return usable
    },

    /**
     * The SP metadata of any connection that exists (also before its IdP is set, so an admin can
     * give it to the IdP first). It depends on the id, PUBLIC_URL and the signing keys and setting,
     * which change only with the row's version: built once per version.
     */
    async spMetadata(requestedId: string): Promise<{ connectionId: string; xml: string } | null> {
      const row = await findConnection(deps.db, requestedId.toLowerCase())
      if (!row) return null
      const key = `${row.id} ${row.version}`
      let xml = metadata.get(key)
      if (xml === undefined) {
        xml = spMetadataXml(serviceProviderUrls(deps.publicUrl, row.id), spSigningOf(row))
        metadata.set(key, xml)
      }
      return { connectionId: row.id, xml }
    },
  }
}
