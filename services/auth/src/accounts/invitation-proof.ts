import { errors } from '@gatehouse/server/errors'
import { internalJsonPoster, parseInvitationProof } from '@gatehouse/server/internal'

/**
 * Asks the invitation service which address a live invitation token was mailed to (its
 * `/internal/invitations/proof`): the address its holder has proven. Null when the token is not a
 * live invitation; 503 when the invitation service cannot answer.
 */
export function createInvitationProof(options: { invitationUrl: URL; internalToken: string; timeoutMs?: number }) {
  const post = internalJsonPoster(
    new URL('/internal/invitations/proof', options.invitationUrl),
    options.internalToken,
    options.timeoutMs ?? 3_000,
  )
  return async (token: string, requestId?: string): Promise<string | null> => {
    if (token.length === 0 || token.length > 128) return null
    let response: { status: number; body: string }
    try {
      response = await post({ token }, requestId)
    } catch {
      throw errors.unavailable('Invitation links cannot be checked right now. Try again shortly.')
    }
    if (response.status === 404) return null
    let answer: ReturnType<typeof parseInvitationProof>
    try {
      answer = response.status === 200 ? parseInvitationProof(JSON.parse(response.body)) : undefined
    } catch {
      answer = undefined
    }
    if (!answer) throw errors.unavailable('Invitation links cannot be checked right now. Try again shortly.')
    return answer.email
  }
}

export type InvitationProof = ReturnType<typeof createInvitationProof>
