import { defineError } from '@gatehouse/server/errors'

/** The auth service's errors, each with the `code` CONTRACT.md gives it. */
export const authErrors = {
  invalidEmail: defineError(400, 'invalid_email', 'Enter a valid email address.'),
  weakPassword: defineError(
    400,
    'weak_password',
    'Choose a password of at least 10 characters that is not a common one.',
  ),
  emailTaken: defineError(409, 'email_taken', 'An account with this email already exists. Sign in instead.'),
  invalidCredentials: defineError(401, 'invalid_credentials', 'The email or password is not right.'),
  // One answer for a link never issued, one already used and one whose session had ended anyway.
  invalidEndLink: defineError(
    404,
    'invalid_link',
    'This link was already used, or the session it names has ended already. Nothing else was changed.',
  ),
  ssoExists: defineError(409, 'sso_exists', 'SSO is already turned on for this workspace.'),
  ssoNotConfigured: defineError(404, 'sso_not_configured', 'SSO is not turned on for this workspace.'),
  ssoDisabled: defineError(409, 'sso_disabled', 'SSO is turned off for this workspace. Sign in with your password.'),
  ssoNotAllowed: defineError(
    403,
    'sso_not_allowed',
    'You need to accept your invitation and sign up with a password before you can use SSO for this workspace.',
  ),
  ownerOrFreshPasswordRequired: defineError(
    403,
    'password_confirmation_required',
    'Only the workspace owner, or an admin who re-entered their password in the last 5 minutes (POST /v1/auth/reauthenticate), can change who the identity provider is.',
  ),
  ssoSignInRequired: defineError(
    409,
    'sso_sign_in_required',
    'To require SSO, the connection must be active and you must have signed in through it in the last 10 minutes.',
  ),
  samlInvalid: defineError(400, 'saml_invalid', 'The sign-in response from your identity provider was not accepted.'),
  signingKeyLimit: defineError(
    409,
    'signing_key_limit',
    'This connection already publishes 3 signing keys. Retire one that no longer signs before rotating again.',
  ),
  signingKeyInUse: defineError(
    409,
    'signing_key_in_use',
    'This key signs the sign-in requests now. Rotate to a new key first, then retire this one.',
  ),
  idpNotConfigured: defineError(
    409,
    'idp_not_configured',
    "Save the identity provider's values first; certificates are added beside a configured one.",
  ),
  certificateExists: defineError(
    409,
    'certificate_exists',
    'This certificate is already configured for this connection.',
  ),
  certificateLimit: defineError(
    409,
    'certificate_limit',
    'This connection already has 10 IdP certificates. Remove one that no longer signs before adding another.',
  ),
  lastCertificate: defineError(
    409,
    'last_certificate',
    'This is the only IdP certificate: sign-ins could not be verified without it. Add the new one first, then remove this one.',
  ),
  invalidMetadataUrl: defineError(
    400,
    'invalid_metadata_url',
    "The identity provider's metadata could not be read from this URL.",
  ),
  metadataUrlNotSet: defineError(
    409,
    'metadata_url_not_set',
    "This connection's identity provider was not set from a metadata URL: there is nothing to re-read.",
  ),
  samlReplayed: defineError(409, 'saml_replayed', 'This sign-in response was already used. Start the sign-in again.'),
  invalidDomain: defineError(400, 'invalid_domain', 'Enter a domain name such as example.com.'),
  domainNotFound: defineError(404, 'domain_not_found', 'This workspace has not claimed that domain.'),
  domainTaken: defineError(
    409,
    'domain_taken',
    'Another workspace has already verified this domain. Contact support if your organization owns it.',
  ),
  domainLimit: defineError(409, 'domain_limit', 'A workspace may claim at most 20 domains. Remove one first.'),
  domainNotVerified: defineError(
    409,
    'domain_not_verified',
    'The TXT record was not found. Publish it, wait for DNS to update, and verify again.',
  ),
  invalidLink: defineError(404, 'invalid_link', 'This link is not valid or was already used. Ask for a new one.'),
  linkExpired: defineError(410, 'link_expired', 'This link has expired. Ask for a new one.'),
  emailUnconfirmed: defineError(
    403,
    'email_unconfirmed',
    'Confirm your email address first: open the link we emailed you when you signed up (your account page sends a new one), or the invitation link you received.',
  ),
  alreadyConfirmed: defineError(409, 'already_confirmed', 'Your email address is already confirmed.'),
  passwordRequired: defineError(
    401,
    'password_required',
    'Enter this account’s password to confirm the address, or choose a new password.',
  ),
  confirmedEmailTaken: defineError(
    409,
    'email_taken',
    'The account holding this address has confirmed it. Sign in, or reset its password from the sign-in page.',
  ),
  noAccount: defineError(404, 'not_found', 'No account holds this address. Create your account instead.'),
  setupLinkInvalid: defineError(
    401,
    'setup_link_invalid',
    'This setup link has expired or was revoked. Ask the workspace owner for a new one.',
  ),
  setupLinkLimit: defineError(
    409,
    'setup_link_limit',
    'This workspace already has 5 live setup links. Revoke one before creating another.',
  ),
  lastOwner: defineError(
    409,
    'last_owner',
    'A workspace always keeps an owner. Transfer the ownership to another member first.',
  ),
  memberNotFound: defineError(404, 'member_not_found', 'This person is not a member of this workspace.'),
  roleNotManageable: defineError(
    403,
    'role_not_manageable',
    'Only an owner can remove or change an owner or an admin. Admins manage members.',
  ),
  ownTransfer: defineError(409, 'already_owner', 'Choose another member to transfer the ownership to.'),
  sessionNotFound: defineError(404, 'session_not_found', 'This session has ended or is not yours.'),
}
