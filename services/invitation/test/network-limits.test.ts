// Issue 12, "IPv6": per-address limits counted single IPv6 addresses, so one /64 gave unlimited
// attempts. The invitation link's lookup (60 a minute) and accept (30 a minute) count a network:
// an IPv4 address or an IPv6 /64 (networkOf in @gatehouse/server/http).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type AuthStandIn, type InvitationTestApp, startAuth, startInvitationApp } from './harness.ts'

/** A /64 no other test uses, and its `host`-th address. */
const freshNetwork = () => `2001:db8:${randomBytes(4).toString('hex').match(/..../g)?.join(':')}`
const address = (network: string, host: number) => `${network}:${host.toString(16)}:0:0:1`

describe('per-network limits of the invitation link', () => {
  let auth: AuthStandIn
  let invitation: InvitationTestApp
  before(async () => {
    auth = await startAuth()
    invitation = await startInvitationApp({ authUrl: auth.url })
  })
  after(async () => {
    await invitation?.close()
    await auth?.close()
  })

  const lookUp = (remoteAddress: string) =>
    invitation.app.inject({
      method: 'POST',
      url: '/v1/invitations/lookup',
      payload: { token: randomBytes(32).toString('base64url') },
      remoteAddress,
    })

  it('counts lookups from every address of one IPv6 /64 together, and leaves other networks alone', async () => {
    const network = freshNetwork()
    for (let host = 1; host <= 60; host++) {
      const response = await lookUp(address(network, host))
      assert.equal(response.statusCode, 404, `lookup ${host}: ${response.body}`)
    }
    const refused = await lookUp(address(network, 61))
    assert.equal(refused.statusCode, 429, refused.body)
    assert.equal(refused.json().error, 'rate_limited')
    assert.ok(Number(refused.headers['retry-after']) >= 1)
    assert.equal((await lookUp(address(freshNetwork(), 1))).statusCode, 404, 'another /64')
  })
})
