// CONTRACT.md "Sessions and what they reach", as one set of pure decisions every route and the
// internal introspection share: a workspace's IdP vouches for people inside that workspace only.
import { reauthenticationRequired, type SignIn } from '@gatehouse/server'
import type { SessionRow } from './repo.ts'
import type { SignedIn } from './service.ts'

export const passwordSignInPath = '/login'

/** The authentication that may act on the account (create workspaces, accept invitations): the password one. */
export function accountAuthentication(signedIn: SignedIn): SessionRow | undefined {
  return signedIn.authentications.find((row) => row.method === 'password')
}

/**
 * The authentication that reaches `workspaceId`: an SSO sign-in through that workspace's own
 * connection, else the password sign-in. An SSO sign-in through another workspace's IdP never does.
 */
export function workspaceAuthentication(signedIn: SignedIn, workspaceId: string): SessionRow | undefined {
  return (
    signedIn.authentications.find((row) => row.method === 'saml' && row.workspaceId === workspaceId) ??
    accountAuthentication(signedIn)
  )
}

/** Where to sign in to reach a workspace: the password page, and its SSO when the member may use it. */
export function signInFor(ssoConnectionId: string | null): SignIn {
  return {
    password: passwordSignInPath,
    ...(ssoConnectionId ? { sso: `/sso/saml/${ssoConnectionId}/login` } : {}),
  }
}

export const accountReauthentication = () =>
  reauthenticationRequired(
    'Your sign-in through a workspace’s identity provider reaches that workspace only. Sign in with your password to do this.',
    { password: passwordSignInPath },
  )

export const workspaceReauthentication = (ssoConnectionId: string | null) =>
  reauthenticationRequired(
    'Your current sign-in does not reach this workspace. Sign in with your password or with this workspace’s SSO.',
    signInFor(ssoConnectionId),
  )
