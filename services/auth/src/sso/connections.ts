import { randomUUID } from 'node:crypto'
import {
  createSamlConnection,
  type IdpConfig,
  idpCertificateFromText,
  idpConfigFromMetadata,
  idpConfigFromValues,
  MAX_METADATA_CERTIFICATES,
  type ParsedIdpConfig,
  SamlConfigError,
  type SamlConnection,
  type SpSigning,
  serviceProviderUrls,
  spCertificateFacts,
} from '@gatehouse/saml'
import { AppError, errors } from '@gatehouse/server'
import { authErrors } from '../errors.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import { type IdpKind, inIdpTerms } from './idp-kinds.ts'
import {
  type ConnectionRow,
  deleteConnection,
  findConnection,
  findConnectionByWorkspace,
  insertAudit,
  insertConnection,
  lockConnection,
  updateConnection,
} from './repo.ts'
import type { SpKeyVault } from './sp-keys.ts'

export interface ConnectionChanges {
  enabled?: boolean
  allowIdpInitiated?: boolean
  emailFromAttribute?: boolean
  allowSha1?: boolean
  signAuthnRequests?: boolean
  idpKind?: IdpKind
}

// Keys published at once: the one that signs and those of earlier rotations not yet retired.
const MAX_SP_SIGNING_KEYS = 3

export type IdpInput = ({ ssoUrl: string; entityId: string; certificate: string } | { metadataXml: string }) & {
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

/**
 * The admin side of a workspace's SSO: turn on, point at the IdP, toggle, remove. Callers have
 * already checked the actor is an owner or admin of the workspace. Every change is audited.
 */
export function createConnectionService(deps: { db: AuthDatabase; publicUrl: URL; keys: SpKeyVault }) {
  const view = (row: ConnectionRow) => connectionView(row, deps.publicUrl)
  // A plain-http Login URL on loopback (the dev IdP) only while the product itself runs on plain
  // http on loopback, i.e. in development; a deployment's PUBLIC_URL is https.
  const allowLoopbackHttp =
    deps.publicUrl.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(deps.publicUrl.hostname)

  /**
   * A connection made before SP keys existed gets its first one when signing first needs it. Only
   * then is the key list written, so a stale read never undoes a rotation or retirement.
   */
  async function firstSigningKey(row: ConnectionRow) {
    return row.spSigningKeys.length > 0 ? {} : { spSigningKeys: [await deps.keys.create(row.id)] }
  }

  async function existing(workspaceId: string): Promise<ConnectionRow> {
    const row = await findConnectionByWorkspace(deps.db, workspaceId)
    if (!row) throw authErrors.ssoNotConfigured()
    return row
  }

  return {
    async turnOn(workspaceId: string, actorUserId: string) {
      // The SP signing key is made with the connection, so its certificate is in the SP metadata
      // the admin hands the IdP from the start, even while requests are not signed.
      // Checked before the key is made, so repeated requests cost no RSA key generation each.
      if (await findConnectionByWorkspace(deps.db, workspaceId)) throw authErrors.ssoExists()
      const id = randomUUID()
      const signingKey = await deps.keys.create(id)
      return deps.db.transaction(async (tx) => {
        const row = await insertConnection(tx, { id, workspaceId, spSigningKeys: [signingKey] })
        if (!row) throw authErrors.ssoExists()
        await insertAudit(tx, {
          workspaceId,
          actorUserId,
          action: 'sso.created',
          changes: { connectionId: row.id, spSigningKey: signingKey.id },
        })
        return view(row)
      })
    },

    async get(workspaceId: string) {
      return view(await existing(workspaceId))
    },

    async setIdp(workspaceId: string, actorUserId: string, input: IdpInput) {
      const row = await existing(workspaceId)
      const parsed = parseIdpInput(input, input.idpKind ?? row.idpKind, allowLoopbackHttp)
      // saml-metadata 2.4.3: an IdP that wants signed requests gets them from now on (the admin
      // may still turn signing off); metadata that does not ask leaves the admin's choice alone.
      const signing = parsed.wantAuthnRequestsSigned ? { signAuthnRequests: true, ...(await firstSigningKey(row)) } : {}
      return deps.db.transaction(async (tx) => {
        const updated = await updateConnection(tx, row.id, {
          idpSsoUrl: parsed.ssoUrl,
          idpEntityId: parsed.entityId,
          idpCertificates: parsed.certificates,
          idpWantsSignedRequests: parsed.wantAuthnRequestsSigned,
          ...signing,
          ...(input.idpKind !== undefined ? { idpKind: input.idpKind } : {}),
        })
        await insertAudit(tx, {
          workspaceId,
          actorUserId,
          action: 'sso.idp_configured',
          changes: {
            source: 'metadataXml' in input ? 'metadata' : 'values',
            ...(input.idpKind !== undefined ? { idpKind: input.idpKind } : {}),
            ssoUrl: parsed.ssoUrl,
            entityId: parsed.entityId,
            certificateFingerprints: parsed.certificates.map((certificate) => certificate.fingerprintSha256),
            wantAuthnRequestsSigned: parsed.wantAuthnRequestsSigned,
          },
        })
        return { ...view(updated), warnings: parsed.warnings }
      })
    },

    async update(workspaceId: string, actorUserId: string, changes: ConnectionChanges) {
      const row = await existing(workspaceId)
      const applied = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
      if (Object.keys(applied).length === 0) return view(row)
      const signingKeys = changes.signAuthnRequests ? await firstSigningKey(row) : {}
      return deps.db.transaction(async (tx) => {
        const updated = await updateConnection(tx, row.id, { ...applied, ...signingKeys })
        await insertAudit(tx, { workspaceId, actorUserId, action: 'sso.updated', changes: applied })
        return view(updated)
      })
    },

    /**
     * Rotation, first half: a new SP signing key signs from now on, and the earlier keys stay
     * published in the SP metadata (the overlap) until retired, so an IdP that has not yet
     * refreshed the metadata keeps a certificate it knows.
     */
    async rotateSigningKey(workspaceId: string, actorUserId: string) {
      const { id } = await existing(workspaceId)
      const signingKey = await deps.keys.create(id)
      return deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        if (!row) throw authErrors.ssoNotConfigured()
        if (row.spSigningKeys.length >= MAX_SP_SIGNING_KEYS) throw authErrors.signingKeyLimit()
        const updated = await updateConnection(tx, id, { spSigningKeys: [signingKey, ...row.spSigningKeys] })
        await insertAudit(tx, {
          workspaceId,
          actorUserId,
          action: 'sso.signing_key_rotated',
          changes: { spSigningKey: signingKey.id, stillPublished: row.spSigningKeys.map((key) => key.id) },
        })
        return view(updated)
      })
    },

    /** Rotation, second half: an earlier key leaves the SP metadata. The key that signs cannot. */
    async retireSigningKey(workspaceId: string, actorUserId: string, keyId: string) {
      const { id } = await existing(workspaceId)
      return deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        const index = row?.spSigningKeys.findIndex((key) => key.id === keyId.toLowerCase()) ?? -1
        if (!row || index === -1) throw errors.notFound('This connection has no such signing key.')
        if (index === 0) throw authErrors.signingKeyInUse()
        const updated = await updateConnection(tx, id, {
          spSigningKeys: row.spSigningKeys.filter((_, position) => position !== index),
        })
        await insertAudit(tx, {
          workspaceId,
          actorUserId,
          action: 'sso.signing_key_retired',
          changes: { spSigningKey: keyId.toLowerCase() },
        })
        return view(updated)
      })
    },

    /**
     * Rollover, first half: a certificate beside the current ones, so responses signed with either
     * verify while the IdP switches. The row's version changes, so every replica's cached copy is
     * replaced at its next login (openSsoSession).
     */
    async addIdpCertificate(workspaceId: string, actorUserId: string, certificateText: string) {
      const { id, idpKind } = await existing(workspaceId)
      const parsed = parseIdpCertificate(certificateText, idpKind)
      return deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        if (!row) throw authErrors.ssoNotConfigured()
        const current = row.idpCertificates ?? []
        if (!idpOf(row)) {
          throw authErrors.idpNotConfigured()
        }
        if (current.some((known) => known.fingerprintSha256 === parsed.certificate.fingerprintSha256)) {
          throw authErrors.certificateExists()
        }
        if (current.length >= MAX_METADATA_CERTIFICATES) throw authErrors.certificateLimit()
        const updated = await updateConnection(tx, id, { idpCertificates: [...current, parsed.certificate] })
        await insertAudit(tx, {
          workspaceId,
          actorUserId,
          action: 'sso.certificate_added',
          changes: { fingerprint: parsed.certificate.fingerprintSha256, notAfter: parsed.certificate.notAfter },
        })
        return { ...view(updated), warnings: parsed.warnings }
      })
    },

    /** Rollover, second half: the old certificate goes. The last one cannot (409 `last_certificate`). */
    async removeIdpCertificate(workspaceId: string, actorUserId: string, fingerprint: string) {
      const { id } = await existing(workspaceId)
      const wanted = normalizeFingerprint(fingerprint)
      return deps.db.transaction(async (tx) => {
        const row = await lockConnection(tx, id)
        const current = row?.idpCertificates ?? []
        if (!row || !current.some((known) => known.fingerprintSha256 === wanted)) {
          throw errors.notFound('This connection has no such IdP certificate.')
        }
        if (current.length === 1) throw authErrors.lastCertificate()
        const updated = await updateConnection(tx, id, {
          idpCertificates: current.filter((known) => known.fingerprintSha256 !== wanted),
        })
        await insertAudit(tx, {
          workspaceId,
          actorUserId,
          action: 'sso.certificate_removed',
          changes: { fingerprint: wanted },
        })
        return view(updated)
      })
    },

    async remove(workspaceId: string, actorUserId: string) {
      const row = await existing(workspaceId)
      await deps.db.transaction(async (tx) => {
        await deleteConnection(tx, row.id)
        await insertAudit(tx, { workspaceId, actorUserId, action: 'sso.deleted', changes: { connectionId: row.id } })
      })
    },
  }
}

export type ConnectionService = ReturnType<typeof createConnectionService>

/** The IdP's values parsed; what is wrong or worth a warning is said in the terms of that IdP. */
function parseIdpInput(input: IdpInput, idpKind: IdpKind, allowLoopbackHttp: boolean): ParsedIdpConfig {
  return inTermsOf(idpKind, () =>
    'metadataXml' in input
      ? idpConfigFromMetadata(input.metadataXml, { allowLoopbackHttp })
      : idpConfigFromValues(input, { allowLoopbackHttp }),
  )
}

function parseIdpCertificate(text: string, idpKind: IdpKind) {
  return inTermsOf(idpKind, () => idpCertificateFromText(text))
}

/** Runs a @gatehouse/saml parse whose warnings and errors are then worded for `idpKind`'s admin. */
function inTermsOf<Parsed extends { warnings: string[] }>(idpKind: IdpKind, parse: () => Parsed): Parsed {
  try {
    const parsed = parse()
    return { ...parsed, warnings: parsed.warnings.map((warning) => inIdpTerms(warning, idpKind)) }
  } catch (error) {
    if (error instanceof SamlConfigError) {
      const fields = Object.fromEntries(
        Object.entries(error.fields).map(([field, message]) => [field, inIdpTerms(message, idpKind)]),
      )
      throw new AppError(400, error.code, inIdpTerms(error.message, idpKind), { fields })
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
  const cache = new Map<string, UsableConnection>()
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
      if (!cached && cache.size >= limit) cache.delete(cache.keys().next().value as string)
      const usable = { row, saml }
      cache.set(row.id, usable)
      return usable
    },
  }
}
