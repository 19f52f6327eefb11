import { enforceLimits, type Limit } from '@gatehouse/server/http'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'

const day = 24 * 60 * 60

/**
 * Invitation emails go out in the product's name with the workspace's name in the subject, so a
 * fresh account could otherwise make Gatehouse mail anyone anything. Each invitation and each
 * resend is one email, counted per day against all four limits; an account under a day old gets
 * a tenth of the per-inviter and per-workspace ones (the deployment's `mailsPerDay`).
 */
export const invitationMailLimits = {
  windowSeconds: day,
  youngAccountSeconds: day,
  youngShare: 10,
  /** To one address from one workspace: the invitation and two resends. */
  perRecipientInWorkspace: 3,
  /** To one address from all workspaces together. */
  perRecipient: 10,
} as const

export interface InvitationMail {
  inviter: { id: string; createdAt?: string }
  workspaceId: string
  recipient: string
}

export type LimitInvitationMail = (mail: InvitationMail) => Promise<void>

/** Counts one invitation email against every limit; 429 `rate_limited` with Retry-After past one. */
export function createInvitationMailLimits(deps: {
  redis: Redis
  log: FastifyBaseLogger
  now: () => Date
  mailsPerDay: { inviter: number; workspace: number }
}): LimitInvitationMail {
  const { windowSeconds, youngAccountSeconds, youngShare, perRecipientInWorkspace, perRecipient } = invitationMailLimits
  return async (mail) => {
    // An inviter whose age auth does not tell is treated as young.
    const age = deps.now().getTime() - Date.parse(mail.inviter.createdAt ?? '')
    const young = !(age >= youngAccountSeconds * 1000)
    const scaled = (limit: number) => (young ? Math.max(1, Math.floor(limit / youngShare)) : limit)
    const perInviter = scaled(deps.mailsPerDay.inviter)
    const perWorkspace = scaled(deps.mailsPerDay.workspace)
    const limits: Limit[] = [
      {
        name: 'invitation-mail:recipient-workspace',
        limit: perRecipientInWorkspace,
        windowSeconds,
        subject: `${mail.workspaceId}:${mail.recipient}`,
        message: (wait) =>
          `${mail.recipient} was sent ${perRecipientInWorkspace} invitation emails from this workspace today. Try again in ${wait}.`,
      },
      {
        name: 'invitation-mail:recipient',
        limit: perRecipient,
        windowSeconds,
        subject: mail.recipient,
        message: (wait) => `${mail.recipient} has had as many invitation emails as it may today. Try again in ${wait}.`,
      },
      {
        name: 'invitation-mail:inviter',
        limit: perInviter,
        windowSeconds,
        subject: mail.inviter.id,
        message: (wait) =>
          `You have sent ${perInviter} invitation emails today${young ? ' (accounts under a day old may send fewer)' : ''}. Try again in ${wait}.`,
      },
      {
        name: 'invitation-mail:workspace',
        limit: perWorkspace,
        windowSeconds,
        subject: mail.workspaceId,
        message: (wait) => `This workspace has sent ${perWorkspace} invitation emails today. Try again in ${wait}.`,
      },
    ]
    await enforceLimits(deps.redis, limits, deps.log)
  }
}
