// CONTRACT.md "Sessions and what they reach", as one set of pure decisions every route and the
// internal introspection share: a workspace's IdP vouches for people inside that workspace only.
import { reauthenticationRequired, type SignIn } from '@gatehouse/server/internal'
import type { SessionRow } from './repo.ts'
import type { SignedIn } from './service.ts'

export const passwordSignInPath = '/login'

/** The authentication that may act on the account (create workspaces, accept invitations): the password one. */
export function accountAuthentication(signedIn: SignedIn): SessionRow | undefined {
  return signedIn.authentications.find((row) => row.method === 'password')
}

/** What decides how a member reaches a workspace: its SSO connection (if they may use it) and requireSso. */
export interface WorkspaceSso {
  ssoConnectionId: string | null
  ssoRequired: boolean
}

/**
 * The authentication that reaches `workspaceId`: an SSO sign-in through that workspace's own
 * connection, else the password sign-in unless the workspace requires SSO (then only the password
 * session an owner used for recovery there). An SSO sign-in through another workspace's IdP never does.
 */
export function workspaceAuthentication(
  signedIn: SignedIn,
  workspaceId: string,
  sso: Pick<WorkspaceSso, 'ssoRequired'>,
): SessionRow | undefined {
  const viaSso = signedIn.authentications.find((row) => row.method === 'saml' && row.workspaceId === workspaceId)
  if (viaSso) return viaSso
  const password = accountAuthentication(signedIn)
  if (password && (!sso.ssoRequired || password.recoveryWorkspaceId === workspaceId)) return password
  return undefined
}

/** Where to sign in to reach a workspace: the password page (unless SSO is required), and its SSO. */
export function signInFor(sso: WorkspaceSso): SignIn {
  return {
    ...(sso.ssoRequired ? {} : { password: passwordSignInPath }),
    ...(sso.ssoConnectionId ? { sso: `/sso/saml/${sso.ssoConnectionId}/login` } : {}),
  }
}

export const accountReauthentication = () =>
  reauthenticationRequired(
    'Your sign-in through a workspace’s identity provider reaches that workspace only. Sign in with your password to do this.',
    { password: passwordSignInPath },
  )

export const workspaceReauthentication = (sso: WorkspaceSso) =>
  reauthenticationRequired(
    sso.ssoRequired
      ? 'This workspace requires its own SSO. Sign in with this workspace’s SSO.'
      : 'Your current sign-in does not reach this workspace. Sign in with your password or with this workspace’s SSO.',
    signInFor(sso),
  )
