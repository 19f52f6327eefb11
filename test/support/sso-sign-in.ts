// SAML SSO in tests that run the real processes, done as people do it: a workspace owner turns SSO
// on and pastes their IdP's values, and a browser signs in SP-initiated through that IdP.
import assert from 'node:assert/strict'
import type { DevIdp } from '@gatehouse/dev-idp'
import { type HttpResult, request } from './http-client.ts'

/** A workspace's SAML connection, as auth shows it to the admin (the values to register at the IdP). */
export interface SsoConnection {
  id: string
  status: string
  sp: { entityId: string; acsUrl: string }
}

/** What an admin may choose beyond the IdP's values. */
export interface SsoChoices {
  /** Accept sign-ins started at the IdP (Entra's My Apps), confirmed on our page; off by default. */
  allowIdpInitiated?: boolean
}

/**
 * Turns SSO on for the workspace and points it at `idp` with the three values an admin copies from
 * Entra's "Set up single sign-on with SAML" page. `baseUrl` is where `/v1/*` is reached.
 */
export async function connectIdp(
  baseUrl: string,
  ownerCookie: string,
  workspaceId: string,
  idp: DevIdp,
  choices: SsoChoices = {},
): Promise<SsoConnection> {
  const turnedOn = await request(`${baseUrl}/v1/workspaces/${workspaceId}/sso`, { method: 'POST', cookie: ownerCookie })
  assert.equal(turnedOn.status, 201, JSON.stringify(turnedOn.body))
  const configured = await request(`${baseUrl}/v1/workspaces/${workspaceId}/sso/idp`, {
    method: 'PUT',
    cookie: ownerCookie,
    json: { ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem },
  })
  assert.equal(configured.status, 200, JSON.stringify(configured.body))
  if (choices.allowIdpInitiated) {
    const patched = await request(`${baseUrl}/v1/workspaces/${workspaceId}/sso`, {
      method: 'PATCH',
      cookie: ownerCookie,
      json: { allowIdpInitiated: true },
    })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
  }
  return configured.body.connection
}

/** A new workspace of the owner's named `name`, its SSO pointed at `idp`. */
export async function workspaceWithSso(
  baseUrl: string,
  ownerCookie: string,
  name: string,
  idp: DevIdp,
  choices: SsoChoices = {},
): Promise<{ workspaceId: string; connection: SsoConnection }> {
  const workspace = await request(`${baseUrl}/v1/workspaces`, { cookie: ownerCookie, json: { name } })
  assert.equal(workspace.status, 201, JSON.stringify(workspace.body))
  const workspaceId = workspace.body.workspace.id as string
  return { workspaceId, connection: await connectIdp(baseUrl, ownerCookie, workspaceId, idp, choices) }
}

/**
 * SP-initiated SSO as a browser does it: /login (with `returnTo` when given), the IdP's answer for
 * `email`, the POST to the ACS with the cookie /login set. Resolves with the ACS's answer.
 */
export async function signInWithSso(sso: {
  baseUrl: string
  idp: DevIdp
  connection: Pick<SsoConnection, 'id' | 'sp'>
  email: string
  returnTo?: string
}): Promise<HttpResult> {
  const { baseUrl, idp, connection, email } = sso
  const started = await request(
    `${baseUrl}/sso/saml/${connection.id}/login${sso.returnTo === undefined ? '' : `?returnTo=${sso.returnTo}`}`,
  )
  assert.equal(started.status, 302)
  const location = new URL(String(started.headers.get('location')))
  const relayState = location.searchParams.get('RelayState') ?? undefined
  const authnRequest = idp.parseAuthnRequest({
    SAMLRequest: location.searchParams.get('SAMLRequest') ?? '',
    RelayState: relayState,
  })
  const samlResponse = idp.responseBase64({ sp: connection.sp, user: { email }, inResponseTo: authnRequest.id })
  return request(`${baseUrl}/sso/saml/${connection.id}/acs`, {
    cookie: Object.values(started.cookies).join('; '),
    form: { SAMLResponse: samlResponse, RelayState: relayState ?? '' },
  })
}
