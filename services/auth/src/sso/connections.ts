import type { SsoConnectionChanged } from '@gatehouse/events'
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
import type { Role } from '../db/schema.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import { type AuthDatabase, type Executor, revokeConnectionSessions, type SessionRow } from '../sessions/repo.ts'
import { authenticationView } from '../sessions/service.ts'
import {
  type ConnectionRow,
  deleteConnection,
  findConnection,
  findConnectionByWorkspace,
  findOwnerAudience,
  insertAudit,
  insertConnection,
  updateConnection,
} from './repo.ts'

export type IdpInput = { ssoUrl: string; entityId: string; certificate: string } | { metadataXml: string }

/** A connection as CONTRACT.md shows it (`{connection}`); certificates as fingerprints, never PEM. */
export function connectionView(row: ConnectionRow, publicUrl: URL) {
  const idp = idpOf(row)
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    enabled: row.enabled,
    allowIdpInitiated: row.allowIdpInitiated,
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

/** How long after re-entering their password an admin may change who the IdP is. */
export const freshPasswordMs = 5 * 60 * 1000

/** Who is changing a workspace's SSO: their role there and the sign-in they act through. */
export interface ConnectionActor {
  userId: string
  role: Role
  session: Pick<SessionRow, 'method' | 'workspaceId' | 'connectionId' | 'reauthenticatedAt'>
}

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
  events: AuthEvents
  now?: () => Date
}) {
  const view = (row: ConnectionRow) => connectionView(row, deps.publicUrl)
  const now = deps.now ?? (() => new Date())

  async function existing(workspaceId: string): Promise<ConnectionRow> {
    const row = await findConnectionByWorkspace(deps.db, workspaceId)
    if (!row) throw authErrors.ssoNotConfigured()
    return row
  }

  // Permission first: the check comes before any parsing of what the admin sent.
  function requireOwnerOrFreshPassword(actor: ConnectionActor) {
    if (actor.role === 'owner') return
    const stamped = actor.session.reauthenticatedAt?.getTime() ?? 0
    if (actor.role === 'admin' && now().getTime() - stamped <= freshPasswordMs) return
    throw authErrors.ownerOrFreshPasswordRequired()
  }

  /** The change's announcement and the end of the sessions the connection opened, in `tx`. */
  async function announce(
    tx: Executor,
    row: ConnectionRow,
    actor: ConnectionActor,
    what: ChangeKind,
    options: { endSessions: boolean; fingerprints?: string[] },
  ) {
    if (options.endSessions) {
      await deps.events.logout(tx, await revokeConnectionSessions(tx, row.id, now()), 'connection_changed')
    }
    const audience = await findOwnerAudience(tx, row.workspaceId)
    const acting = authenticationView(actor.session)
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

  return {
    async turnOn(workspaceId: string, actor: ConnectionActor) {
      return deps.db.transaction(async (tx) => {
        const row = await insertConnection(tx, workspaceId)
        if (!row) throw authErrors.ssoExists()
        await insertAudit(tx, {
          workspaceId,
          actorUserId: actor.userId,
          action: 'sso.created',
          changes: { connectionId: row.id },
        })
        return view(row)
      })
    },

    async get(workspaceId: string) {
      return view(await existing(workspaceId))
    },

    /** Sets who the IdP is (URL, identifier, certificates): the sessions it opened before end. */
    async setIdp(workspaceId: string, actor: ConnectionActor, input: IdpInput) {
      requireOwnerOrFreshPassword(actor)
      const row = await existing(workspaceId)
      const parsed = parseIdpInput(input)
      const fingerprints = parsed.certificates.map((certificate) => certificate.fingerprintSha256)
      const result = await deps.db.transaction(async (tx) => {
        const updated = await updateConnection(tx, row.id, {
          idpSsoUrl: parsed.ssoUrl,
          idpEntityId: parsed.entityId,
          idpCertificates: parsed.certificates,
        })
        await insertAudit(tx, {
          workspaceId,
          actorUserId: actor.userId,
          action: 'sso.idp_configured',
          changes: {
            source: 'metadataXml' in input ? 'metadata' : 'values',
            ssoUrl: parsed.ssoUrl,
            entityId: parsed.entityId,
            certificateFingerprints: fingerprints,
          },
        })
        await announce(tx, updated, actor, 'idp_configured', { endSessions: true, fingerprints })
        return { ...view(updated), warnings: parsed.warnings }
      })
      deps.events.wake()
      return result
    },

    async update(
      workspaceId: string,
      actor: ConnectionActor,
      changes: { enabled?: boolean; allowIdpInitiated?: boolean },
    ) {
      const row = await existing(workspaceId)
      const applied = Object.fromEntries(
        Object.entries(changes).filter(
          ([key, value]) => value !== undefined && row[key as keyof typeof changes] !== value,
        ),
      ) as typeof changes
      if (Object.keys(applied).length === 0) return view(row)
      // Unsolicited responses let the IdP sign anyone in with no request from us: the IdP's choice.
      if (applied.allowIdpInitiated === true) requireOwnerOrFreshPassword(actor)
      const result = await deps.db.transaction(async (tx) => {
        const updated = await updateConnection(tx, row.id, applied)
        await insertAudit(tx, { workspaceId, actorUserId: actor.userId, action: 'sso.updated', changes: applied })
        if (applied.enabled !== undefined) {
          await announce(tx, updated, actor, applied.enabled ? 'enabled' : 'disabled', {
            endSessions: !applied.enabled,
          })
        }
        if (applied.allowIdpInitiated === true) {
          await announce(tx, updated, actor, 'idp_initiated_enabled', { endSessions: false })
        }
        return view(updated)
      })
      deps.events.wake()
      return result
    },

    async remove(workspaceId: string, actor: ConnectionActor) {
      requireOwnerOrFreshPassword(actor)
      const row = await existing(workspaceId)
      await deps.db.transaction(async (tx) => {
        await announce(tx, row, actor, 'deleted', { endSessions: true })
        await deleteConnection(tx, row.id)
        await insertAudit(tx, {
          workspaceId,
          actorUserId: actor.userId,
          action: 'sso.deleted',
          changes: { connectionId: row.id },
        })
      })
      deps.events.wake()
    },
  }
}

export type ConnectionService = ReturnType<typeof createConnectionService>

function parseIdpInput(input: IdpInput): ParsedIdpConfig {
  try {
    return 'metadataXml' in input ? idpConfigFromMetadata(input.metadataXml) : idpConfigFromValues(input)
  } catch (error) {
    if (error instanceof SamlConfigError) {
      throw new AppError(400, error.code, error.message, { fields: error.fields })
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
