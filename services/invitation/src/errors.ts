import { defineError } from '@gatehouse/server/errors'

/** The invitation service's errors, each with the `code` CONTRACT.md gives it. */
export const invitationErrors = {
  invalidEmail: defineError(400, 'invalid_email', 'Enter a valid email address.'),
  alreadyMember: defineError(409, 'already_member', 'This person is already a member of the workspace.'),
  alreadyInvited: defineError(
    409,
    'already_invited',
    'This person already has an open invitation to the workspace. Resend it instead.',
  ),
  notPending: defineError(409, 'not_pending', 'This invitation is no longer open.'),
  invalidToken: defineError(404, 'invalid_token', 'This invitation link is not valid. Ask for a new invitation.'),
  emailMismatch: defineError(
    403,
    'email_mismatch',
    'This invitation is for another email address. Sign in with the account of the invited email.',
  ),
  expired: defineError(410, 'expired', 'This invitation has expired. Ask the workspace admin to invite you again.'),
  revoked: defineError(410, 'revoked', 'This invitation was withdrawn. Ask the workspace admin to invite you again.'),
  emailUnconfirmed: defineError(
    403,
    'email_unconfirmed',
    'Confirm your email address first: open the confirmation link we emailed you when you signed up (your account page sends a new one), then accept.',
  ),
  alreadyAccepted: defineError(409, 'already_accepted', 'This invitation was already accepted.'),
  workspaceDeleted: defineError(410, 'workspace_deleted', 'This workspace was deleted: its invitations lead nowhere.'),
  authUnavailable: defineError(503, 'auth_unavailable', 'Sign-in checks are unavailable right now. Try again shortly.'),
}
