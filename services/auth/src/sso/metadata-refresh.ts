// Re-reads a connection's IdP metadata URL (on a schedule, and when an admin asks) and applies what
// may be applied with nobody watching. What a refresh does alone, and why:
// - a certificate the metadata lists and the connection lacks is ADDED beside the current ones (the
//   overlap of a rollover: Entra publishes its next certificate before signing with it), the owners
//   are told, and no session ends;
// - a certificate the connection has and the metadata no longer lists is KEPT: removing one ends
//   every session the connection opened, which is the admin's call (the page shows both);
// - WantAuthnRequestsSigned is APPLIED as saving the metadata applies it (connections.ts, setIdp):
//   an IdP that asks for signed requests gets them from now on, and one that stops asking leaves
//   signing as it is (the admin's call). Signing our requests re-points nothing, so nothing a
//   hijacked metadata URL could publish here hands sign-ins to anyone; the audit trail records it;
// - another entity ID or Login URL is REFUSED: that re-points the connection at what may be another
//   IdP (a hijacked DNS name, a mistyped tenant), so the owners are told and an admin re-saves the URL
//   to accept it;
// - metadata that cannot be read (network, SSRF guard, size, time, XML bounds) changes nothing; the
//   owners are told once per problem, not at every refresh while it lasts.
import { MAX_METADATA_CERTIFICATES, type ParsedIdpConfig } from '@gatehouse/saml'
import { AppError } from '@gatehouse/server/errors'
import { recordAudit } from '../audit/record.ts'
import type { MetadataProblem } from '../db/schema.ts'
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase, Executor } from '../sessions/repo.ts'
import { developmentLoopback, idpOf, parseIdpMetadata } from './connections.ts'
import { type IdpConfigParser, parserAdmissionKeys } from './idp-config-parser.ts'
import { MetadataFetchError, type MetadataFetcher } from './metadata-fetch.ts'
import {
  type ConnectionRow,
  findConnection,
  findOwnerAudience,
  lockConnection,
  recordMetadataCheck,
  updateConnection,
} from './repo.ts'
import type { SpKeyVault } from './sp-keys.ts'

export type RefreshOutcome =
  | { outcome: 'unchanged' }
  | { outcome: 'certificates_added'; fingerprints: string[]; wantAuthnRequestsSigned?: boolean }
  | { outcome: 'signing_changed'; wantAuthnRequestsSigned: boolean }
  | { outcome: 'unreadable' | 'change_refused'; problem: MetadataProblem }
  | { outcome: 'not_configured' }

/**
 * The audit entries of a refresh: no person made the change (the system actor, no address), and their
 * changes say `via: "metadata_refresh"`, the connection and the URL read.
 */
export function recordRefreshAudit(
  tx: Executor,
  row: Pick<ConnectionRow, 'id' | 'workspaceId' | 'idpMetadataUrl'>,
  action: string,
  changes: Record<string, unknown>,
) {
  return recordAudit(tx, {
    workspaceId: row.workspaceId,
    actor: { userId: null, method: 'system', ip: null },
    action,
    changes: { via: 'metadata_refresh', connectionId: row.id, metadataUrl: row.idpMetadataUrl, ...changes },
  })
}

export function createMetadataRefresh(deps: {
  db: AuthDatabase
  publicUrl: URL
  events: AuthEvents
  fetchMetadata: MetadataFetcher
  idpParser: IdpConfigParser
  keys: Pick<SpKeyVault, 'create'>
  now?: () => Date
}) {
  const now = deps.now ?? (() => new Date())
  const allowLoopbackHttp = developmentLoopback(deps.publicUrl)

  /** Reads and parses the URL; a problem (never a throw) when it cannot. */
  async function readMetadata(
    row: ConnectionRow & { idpMetadataUrl: string },
  ): Promise<{ parsed: ParsedIdpConfig; problem?: undefined } | { parsed?: undefined; problem: MetadataProblem }> {
    try {
      const xml = await deps.fetchMetadata(row.idpMetadataUrl)
      const keys = parserAdmissionKeys({ workspaceId: row.workspaceId })
      return { parsed: await parseIdpMetadata(deps.idpParser, xml, row.idpKind, allowLoopbackHttp, keys) }
    } catch (error) {
      // The parser busy or failing here (503) says nothing about the IdP: the refresh fails, retried later.
      if (error instanceof AppError && error.statusCode >= 500) throw error
      if (error instanceof MetadataFetchError || error instanceof AppError) {
        const reason = error instanceof MetadataFetchError ? error.reason : error.code
        return { problem: problemOf('unreadable', reason, error.message) }
      }
      throw error
    }
  }

  function problemOf(kind: MetadataProblem['kind'], reason: string, message: string): MetadataProblem {
    return { kind, reason: reason.slice(0, 64), message: message.slice(0, 1000), since: now().toISOString() }
  }

  /**
   * Records a problem; the owners hear of it only when it differs from the one already recorded
   * (the same failure at every refresh is one notice).
   */
  async function recordProblem(tx: Executor, row: ConnectionRow, problem: MetadataProblem) {
    const known = row.idpMetadataProblem
    const same = known?.kind === problem.kind && known.reason === problem.reason
    await recordMetadataCheck(tx, row.id, {
      idpMetadataCheckedAt: now(),
      idpMetadataProblem: same ? known : problem,
    })
    if (same) return
    await recordRefreshAudit(tx, row, 'sso.metadata_problem', {
      kind: problem.kind,
      reason: problem.reason,
      message: problem.message,
    })
    const audience = await findOwnerAudience(tx, row.workspaceId)
    await deps.events.metadataProblem(tx, {
      workspaceId: row.workspaceId,
      workspaceName: audience.workspaceName.slice(0, 200),
      connectionId: row.id,
      kind: problem.kind,
      reason: problem.reason,
      message: problem.message,
      metadataUrl: (row.idpMetadataUrl ?? '').slice(0, 2048),
      notify: audience.ownerEmails.slice(0, 100),
    })
  }

  /** What the metadata would change that a refresh does not apply alone, if anything. */
  function refusedChange(row: ConnectionRow, parsed: { entityId: string; ssoUrl: string }): MetadataProblem | null {
    if (parsed.entityId !== row.idpEntityId) {
      return problemOf(
        'change_refused',
        'entity_id_changed',
        `The metadata now names another identity provider identifier (${parsed.entityId.slice(0, 300)}, was ${String(row.idpEntityId).slice(0, 300)}). Nothing was changed: if this is expected, save the metadata URL again on the SSO page to accept it.`,
      )
    }
    if (parsed.ssoUrl !== row.idpSsoUrl) {
      return problemOf(
        'change_refused',
        'login_url_changed',
        `The metadata now names another Login URL (${parsed.ssoUrl.slice(0, 300)}, was ${String(row.idpSsoUrl).slice(0, 300)}). Nothing was changed: if this is expected, save the metadata URL again on the SSO page to accept it.`,
      )
    }
    return null
  }

  return {
    /** Reads the connection's metadata URL and applies what may be applied unattended. */
    async refresh(connectionId: string): Promise<RefreshOutcome> {
      const before = await findConnection(deps.db, connectionId)
      const metadataUrl = before?.idpMetadataUrl
      if (!before || !metadataUrl || !idpOf(before)) return { outcome: 'not_configured' }
      const read = await readMetadata({ ...before, idpMetadataUrl: metadataUrl })
      // A connection made before SP keys existed gets its first one when signing first needs it
      // (made outside the transaction: it is slow, and unused if the row changed meanwhile).
      const newSigningKey =
        read.parsed?.wantAuthnRequestsSigned && before.spSigningKeys.length === 0
          ? await deps.keys.create(connectionId)
          : undefined
      const result = await deps.db.transaction(async (tx): Promise<RefreshOutcome> => {
        const row = await lockConnection(tx, connectionId)
        // Re-pointed, or given another URL, while the metadata was read: that change stands.
        if (!row || row.idpMetadataUrl !== metadataUrl || !idpOf(row)) return { outcome: 'not_configured' }
        const refuse = async (problem: MetadataProblem) => {
          await recordProblem(tx, row, problem)
          return { outcome: problem.kind, problem }
        }
        if (read.problem) return refuse(read.problem)
        const refused = refusedChange(row, read.parsed)
        if (refused) return refuse(refused)
        const current = row.idpCertificates ?? []
        const known = new Set(current.map((certificate) => certificate.fingerprintSha256))
        const added = read.parsed.certificates.filter((certificate) => !known.has(certificate.fingerprintSha256))
        if (current.length + added.length > MAX_METADATA_CERTIFICATES) {
          return refuse(
            problemOf(
              'change_refused',
              'certificate_limit',
              `The metadata lists a new certificate, but the connection already has ${current.length} of at most ${MAX_METADATA_CERTIFICATES}. Remove one that no longer signs; the next refresh adds the new one.`,
            ),
          )
        }
        const checked = { idpMetadataCheckedAt: now(), idpMetadataReadAt: now(), idpMetadataProblem: null }
        if (row.idpMetadataProblem) {
          await recordRefreshAudit(tx, row, 'sso.metadata_read_again', {
            previousReason: row.idpMetadataProblem.reason,
          })
        }
        const wants = read.parsed.wantAuthnRequestsSigned
        const signing =
          wants === row.idpWantsSignedRequests
            ? null
            : {
                idpWantsSignedRequests: wants,
                ...(wants ? { signAuthnRequests: true } : {}),
                ...(wants && row.spSigningKeys.length === 0 && newSigningKey ? { spSigningKeys: [newSigningKey] } : {}),
              }
        if (added.length === 0 && !signing) {
          await recordMetadataCheck(tx, row.id, checked)
          return { outcome: 'unchanged' }
        }
        // The version changes, so every replica judges its next sign-in by the larger set and
        // starts its next sign-in as the IdP asks.
        await updateConnection(tx, row.id, {
          ...(added.length > 0 ? { idpCertificates: [...current, ...added] } : {}),
          ...signing,
          ...checked,
        })
        if (signing) {
          const { spSigningKeys, ...shown } = signing
          await recordRefreshAudit(tx, row, 'sso.updated', {
            ...shown,
            ...(spSigningKeys ? { spSigningKey: spSigningKeys[0]?.id } : {}),
          })
        }
        if (added.length === 0) return { outcome: 'signing_changed', wantAuthnRequestsSigned: wants }
        const fingerprints = added.map((certificate) => certificate.fingerprintSha256)
        for (const certificate of added) {
          await recordRefreshAudit(tx, row, 'sso.certificate_added', {
            fingerprint: certificate.fingerprintSha256,
            notAfter: certificate.notAfter,
          })
        }
        const audience = await findOwnerAudience(tx, row.workspaceId)
        await deps.events.connectionChanged(tx, {
          workspaceId: row.workspaceId,
          workspaceName: audience.workspaceName.slice(0, 200),
          connectionId: row.id,
          what: 'certificate_added',
          via: 'metadata_refresh',
          fingerprints: fingerprints.slice(0, 20),
          notify: audience.ownerEmails.slice(0, 100),
        })
        return { outcome: 'certificates_added', fingerprints, ...(signing ? { wantAuthnRequestsSigned: wants } : {}) }
      })
      deps.events.wake()
      return result
    },
  }
}

export type MetadataRefresh = ReturnType<typeof createMetadataRefresh>
