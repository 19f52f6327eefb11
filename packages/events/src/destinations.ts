import type { EventType } from './event-schemas.ts'

/** The BullMQ queue of `invitation.*` events: one consumer (auth) processes each event once. */
export const invitationEventsQueue = 'invitation-events'
/** The Redis stream of `auth.*` events: every subscriber group receives every event. */
export const authEventsStream = 'auth-events'

export type Destination = { kind: 'queue'; name: string } | { kind: 'stream'; name: string }

/** Where each event type goes; the relay publishes by this table. */
export const destinations = {
  'invitation.accepted': { kind: 'queue', name: invitationEventsQueue },
  'invitation.created': { kind: 'queue', name: invitationEventsQueue },
  'invitation.revoked': { kind: 'queue', name: invitationEventsQueue },
  'invitation.resent': { kind: 'queue', name: invitationEventsQueue },
  'auth.login.succeeded': { kind: 'stream', name: authEventsStream },
  'auth.login.failed': { kind: 'stream', name: authEventsStream },
  'auth.logout': { kind: 'stream', name: authEventsStream },
  'sso.connection.changed': { kind: 'stream', name: authEventsStream },
  'sso.recovery.used': { kind: 'stream', name: authEventsStream },
  'sso.metadata.problem': { kind: 'stream', name: authEventsStream },
  'sso.certificate.expiring': { kind: 'stream', name: authEventsStream },
  'auth.password.reset_requested': { kind: 'stream', name: authEventsStream },
  'auth.link.issued': { kind: 'stream', name: authEventsStream },
  'auth.email.confirmed': { kind: 'stream', name: authEventsStream },
  'auth.password.reset': { kind: 'stream', name: authEventsStream },
  'auth.password.changed': { kind: 'stream', name: authEventsStream },
  'sso.setup_link.used': { kind: 'stream', name: authEventsStream },
  'sso.first_sign_in': { kind: 'stream', name: authEventsStream },
  'membership.removed': { kind: 'stream', name: authEventsStream },
  'membership.role_changed': { kind: 'stream', name: authEventsStream },
} as const satisfies Record<EventType, Destination>
