// What the services tell each other, declared once for both sides: the internal HTTP call and its
// token check, the introspection contract (what a session reaches), the invitation proof, and
// session revocations on their Redis channel.
export {
  InvitationProofAnswer,
  InvitationProofRequest,
  internalJsonPoster,
  internalTokenCheck,
  parseInvitationProof,
} from './calls.ts'
export {
  Authentication,
  InternalRefusal,
  IntrospectionAnswer,
  IntrospectionRequest,
  MembershipRemovalRequest,
  membershipRemovalRefusals,
  parseInternalRefusal,
  parseIntrospectionAnswer,
  reauthenticationRequired,
  SessionMethod,
  SignIn,
} from './session-reach.ts'
export {
  parseRevokedSessions,
  publishRevokedSessions,
  sessionTokenHash,
  sessionTokenHashes,
} from './session-revocations.ts'
