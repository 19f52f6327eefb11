import {
  createSamlConnection,
  type IdpConfig,
  idpConfigFromMetadata,
  idpConfigFromValues,
  type ParsedIdpConfig,
  SamlConfigError,
  type SamlConnection,
  serviceProviderUrls,
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
  updateConnection,
} from './repo.ts'

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
    idpKind: row.idpKind,
    sp: serviceProviderUrls(publicUrl, row.id),
    idp: idp && {
      ssoUrl: idp.ssoUrl,
      entityId: idp.entityId,
      certificates: idp.certificates.map(({ pem: _pem, ...shown }) => shown),
    },
    status: !row.enabled ? ('disabled' as const) : idp ? ('active' as const) : ('awaiting_idp' as const),
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
export function createConnectionService(deps: { db: AuthDatabase; publicUrl: URL }) {
  const view = (row: ConnectionRow) => connectionView(row, deps.publicUrl)

  async function existing(workspaceId: string): Promise<ConnectionRow> {
    const row = await findConnectionByWorkspace(deps.db, workspaceId)
    if (!row) throw authErrors.ssoNotConfigured()
    return row
  }

  return {
    async turnOn(workspaceId: string, actorUserId: string) {
      return deps.db.transaction(async (tx) => {
        const row = await insertConnection(tx, workspaceId)
        if (!row) throw authErrors.ssoExists()
        await insertAudit(tx, { workspaceId, actorUserId, action: 'sso.created', changes: { connectionId: row.id } })
        return view(row)
      })
    },

    async get(workspaceId: string) {
      return view(await existing(workspaceId))
    },

    async setIdp(workspaceId: string, actorUserId: string, input: IdpInput) {
      const row = await existing(workspaceId)
      const parsed = parseIdpInput(input, input.idpKind ?? row.idpKind)
      return deps.db.transaction(async (tx) => {
        const updated = await updateConnection(tx, row.id, {
          idpSsoUrl: parsed.ssoUrl,
          idpEntityId: parsed.entityId,
          idpCertificates: parsed.certificates,
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
          },
        })
        return { ...view(updated), warnings: parsed.warnings }
      })
    },

    async update(
      workspaceId: string,
      actorUserId: string,
      changes: { enabled?: boolean; allowIdpInitiated?: boolean; idpKind?: IdpKind },
    ) {
      const row = await existing(workspaceId)
      const applied = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
      if (Object.keys(applied).length === 0) return view(row)
      return deps.db.transaction(async (tx) => {
        const updated = await updateConnection(tx, row.id, applied)
        await insertAudit(tx, { workspaceId, actorUserId, action: 'sso.updated', changes: applied })
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
function parseIdpInput(input: IdpInput, idpKind: IdpKind): ParsedIdpConfig {
  try {
    const parsed = 'metadataXml' in input ? idpConfigFromMetadata(input.metadataXml) : idpConfigFromValues(input)
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
export function createConnectionCache(deps: { db: AuthDatabase; publicUrl: URL; limit?: number }) {
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
            })
      if (!cached && cache.size >= limit) cache.delete(cache.keys().next().value as string)
      const usable = { row, saml }
      cache.set(row.id, usable)
      return usable
    },
  }
}
