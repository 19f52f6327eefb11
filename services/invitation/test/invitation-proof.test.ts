import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type AuthStandIn,
  internalToken,
  inviteAndReceive,
  ownerWithWorkspace,
  type Setup,
  startSetup,
} from './harness.ts'

describe('the proof an invitation link gives', () => {
  let setup: Setup & { close(): Promise<void> }
  let auth: AuthStandIn
  before(async () => {
    setup = await startSetup()
    auth = setup.auth
  })
  after(() => setup.close())

  const proof = (token: string, bearer = internalToken) =>
    setup.invitation.app.inject({
      method: 'POST',
      url: '/internal/invitations/proof',
      headers: { authorization: `Bearer ${bearer}` },
      payload: { token },
    })

  it('tells auth, holding INTERNAL_TOKEN, which address a live invitation link was mailed to, and nothing else', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const { token, email } = await inviteAndReceive(setup, owner.cookie, workspace.id)
    const answered = await proof(token)
    assert.equal(answered.statusCode, 200, answered.body)
    assert.deepEqual(answered.json(), { email })
    assert.equal((await proof(token, 'not-the-internal-token-at-all-0123456789')).statusCode, 401)
    assert.equal((await proof('A'.repeat(43))).json().error, 'invalid_token')
    // Through the public origin it is refused like any internal call without the token.
    const browser = await setup.invitation.app.inject({
      method: 'POST',
      url: '/internal/invitations/proof',
      payload: { token },
    })
    assert.equal(browser.statusCode, 401)
  })
})
