import { createHash, randomBytes } from 'node:crypto'
import { errors } from '@gatehouse/server/errors'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { authErrors } from '../errors.ts'
import type { AuthEvents } from '../events.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { ConnectionActor } from '../sso/connections.ts'
import {
  countLiveSetupLinks,
  findLiveSetupLink,
  insertSetupLink,
  listSetupLinks,
  markFirstUse,
  revokeSetupLink,
  type SetupLinkRow,
} from './repo.ts'

/** How long a setup link works. */
export const setupLinkLifetimeMs = 7 * 24 * 60 * 60 * 1000
// Live links a workspace may have at once: one per IT admin helping, a few at most.
const maxLiveLinks = 5

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url')

/** A live link, as the routes behind `setup_link` access see it. */
export interface SetupLinkHolder {
  id: string
  workspaceId: string
  workspaceName: string
  createdBy: string
  ownerEmail: string
  expiresAt: Date
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The setup link a `setup_link` route was authorized by. */
    setupLink: SetupLinkHolder | null
  }
}

export function setupLinkView(row: SetupLinkRow, now: Date) {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    openedAt: row.openedAt?.toISOString() ?? null,
    status: row.revokedAt ? ('revoked' as const) : row.expiresAt <= now ? ('expired' as const) : ('active' as const),
  }
}

/**
 * Setup links: an owner lets the customer's IT admin, who has no account, do one workspace's SSO
 * setup. The token (256 bits) is shown once, in the URL fragment, and stored hashed. Whoever holds
 * it acts with the consent of the owner who made it: as that owner for the IdP checks (issue 11:
 * changing who the IdP is needs the owner), always recorded in the audit trail as the link, and
 * the owner is emailed what is done through it.
 */
export function createSetupLinkService(deps: {
  db: AuthDatabase
  events: AuthEvents
  publicUrl: URL
  now?: () => Date
}) {
  const now = deps.now ?? (() => new Date())

  /** Tells the link's owner, in `tx`, that something was done through it. */
  async function tell(
    tx: Parameters<Parameters<AuthDatabase['transaction']>[0]>[0],
    holder: SetupLinkHolder,
    what: 'opened' | 'sso_turned_on' | 'test_sign_in',
    ip: string,
  ) {
    await deps.events.setupLinkUsed(tx, {
      workspaceId: holder.workspaceId,
      workspaceName: holder.workspaceName.slice(0, 200),
      setupLinkId: holder.id,
      what,
      ip: ip.slice(0, 64),
      notify: [holder.ownerEmail],
    })
  }

  return {
    async create(workspaceId: string, actor: AuditActor & { userId: string }) {
      const at = now()
      if ((await countLiveSetupLinks(deps.db, workspaceId, at)) >= maxLiveLinks) throw authErrors.setupLinkLimit()
      const token = randomBytes(32).toString('base64url')
      const row = await deps.db.transaction(async (tx) => {
        const inserted = await insertSetupLink(tx, {
          workspaceId,
          tokenHash: hashToken(token),
          createdBy: actor.userId,
          expiresAt: new Date(at.getTime() + setupLinkLifetimeMs),
        })
        await recordAudit(tx, {
          workspaceId,
          actor,
          action: 'setup_link.created',
          changes: { setupLinkId: inserted.id, expiresAt: inserted.expiresAt.toISOString() },
        })
        return inserted
      })
      // The token travels in the fragment: never sent to a server, so never in a log.
      const url = new URL(`/setup#token=${token}`, deps.publicUrl).href
      return { ...setupLinkView(row, at), url }
    },

    async list(workspaceId: string) {
      const at = now()
      return (await listSetupLinks(deps.db, workspaceId)).map((row) => setupLinkView(row, at))
    },

    async revoke(workspaceId: string, actor: AuditActor, linkId: string) {
      await deps.db.transaction(async (tx) => {
        const revoked = await revokeSetupLink(tx, workspaceId, linkId, now())
        if (!revoked) throw errors.notFound('No such setup link, or it was already revoked.')
        await recordAudit(tx, { workspaceId, actor, action: 'setup_link.revoked', changes: { setupLinkId: linkId } })
      })
      deps.events.wake()
    },

    /** The live link a token names; 401 `setup_link_invalid` for any other (expired, revoked, unknown). */
    async authenticate(token: string | undefined): Promise<SetupLinkHolder> {
      const found =
        token && /^[\w-]{43}$/.test(token) ? await findLiveSetupLink(deps.db, hashToken(token), now()) : undefined
      if (!found) throw authErrors.setupLinkInvalid()
      const { link } = found
      return {
        id: link.id,
        workspaceId: link.workspaceId,
        workspaceName: found.workspaceName,
        createdBy: link.createdBy,
        ownerEmail: found.ownerEmail,
        expiresAt: link.expiresAt,
      }
    },

    /** The first use of a link is audited and told to its owner; later visits are not. */
    async opened(holder: SetupLinkHolder, ip: string) {
      const first = await deps.db.transaction(async (tx) => {
        if (!(await markFirstUse(tx, holder.id, now()))) return false
        await recordAudit(tx, {
          workspaceId: holder.workspaceId,
          actor: auditActorOfLink(holder, ip),
          action: 'setup_link.opened',
          changes: { setupLinkId: holder.id },
        })
        await tell(tx, holder, 'opened', ip)
        return true
      })
      if (first) deps.events.wake()
    },

    /** Tells the owner of something done through the link (its audit row is the change's own). */
    async used(holder: SetupLinkHolder, what: 'sso_turned_on' | 'test_sign_in', ip: string) {
      await deps.db.transaction((tx) => tell(tx, holder, what, ip))
      deps.events.wake()
    },
  }
}

export type SetupLinkService = ReturnType<typeof createSetupLinkService>

export function auditActorOfLink(holder: SetupLinkHolder, ip: string): AuditActor {
  return { userId: holder.createdBy, method: 'setup_link', ip, setupLinkId: holder.id }
}

/**
 * The link's holder as a connection actor: the owner who made the link gave consent, so the IdP
 * may be set as by that owner; the audit trail and the owners' notice name the link.
 */
export function connectionActorOfLink(holder: SetupLinkHolder, ip: string): ConnectionActor {
  return {
    userId: holder.createdBy,
    role: 'owner',
    session: {
      method: 'password',
      workspaceId: null,
      connectionId: null,
      reauthenticatedAt: null,
      createdAt: new Date(),
    },
    ip,
    setupLinkId: holder.id,
  }
}
