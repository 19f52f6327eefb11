import type { InvitationCreated, InvitationResent, InvitationRevoked } from '@gatehouse/events'
import type { Executor } from '../sessions/repo.ts'
import { recordAudit } from './record.ts'

/**
 * Invitations live in the invitation service, which writes each change and its event in one
 * transaction (its outbox); this consumer turns the event into the workspace's audit row, once per
 * event id. So an invitation change is in the audit trail exactly when it was committed.
 */
export async function auditInvitationChange(
  db: Executor,
  event: InvitationCreated | InvitationResent | InvitationRevoked,
): Promise<void> {
  await recordAudit(db, {
    workspaceId: event.workspaceId,
    actor: { userId: event.by ?? null, method: event.actingSession?.method ?? 'system', ip: event.ip ?? null },
    action: event.type,
    changes: {
      invitationId: event.invitationId,
      email: event.email,
      ...('role' in event && event.role ? { role: event.role } : {}),
    },
    eventId: event.id,
    at: new Date(event.occurredAt),
  })
}
