export {
  publishToStream,
  type SubscribeOptions,
  type Subscription,
  streamMaxLength,
  subscribe,
} from './auth-stream.ts'
export {
  type EventBacklogMetrics,
  type OutboxBacklog,
  observeEventBacklog,
  outboxBacklog,
  type QueueJobCounts,
  queueJobCounts,
  queueStates,
} from './backlog.ts'
export { type BullmqLogOptions, logBullmqProblems } from './bullmq-log.ts'
export { authEventsStream, type Destination, destinations, invitationEventsQueue } from './destinations.ts'
export {
  type AuthEvent,
  createEvent,
  type EmailConfirmed,
  type EventOf,
  type EventType,
  eventSchemas,
  eventTypes,
  type GatehouseEvent,
  InvalidEventError,
  type InvitationAccepted,
  type InvitationCreated,
  type InvitationEvent,
  type InvitationResent,
  type InvitationRevoked,
  isAuthEvent,
  isInvitationEvent,
  type LinkIssued,
  type LoginFailed,
  type LoginSucceeded,
  type Logout,
  type MembershipRemoved,
  type MembershipRoleChanged,
  type PasswordChanged,
  type PasswordReset,
  type PasswordResetRequested,
  type PayloadOf,
  parseEvent,
  type SsoCertificateExpiring,
  type SsoConnectionChanged,
  type SsoFirstSignIn,
  type SsoMetadataProblem,
  type SsoRecoveryUsed,
  type SsoSetupLinkUsed,
} from './event-schemas.ts'
export {
  type ConsumeInvitationEventsOptions,
  consumeInvitationEvents,
  type InvitationEventsConsumer,
} from './invitation-queue.ts'
export type { EventsLog } from './log.ts'
export { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './outbox-relay.ts'
export {
  type OutboxTable,
  type OutboxWriter,
  outboxInsert,
  outboxInsertFrom,
  outboxInsertFromPlaceholders,
  outboxPlaceholderValues,
  outboxTable,
  writeEvent,
  writeEvents,
} from './outbox-table.ts'
export { type PollLoop, type PollLoopOptions, startPollLoop } from './poll-loop.ts'
