// Issue 12, item 6: a revoked session is refused everywhere at once. The invitation service keeps
// auth's introspection answers for half a second; auth announces each ended session on Redis
// before it answers, so the very next request to invitation with the old cookie is refused.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueEmail } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import type { RunningProcess } from '../support/processes.ts'
import { type Stack, startStack } from '../support/stack.ts'

const password = 'correct horse battery staple'

describe('signing out ends the session at the invitation service at once', () => {
  let stack: Stack
  let auth: RunningProcess
  let invitation: RunningProcess

  before(async () => {
    stack = await startStack({ web: false, devIdp: false })
    auth = stack.program('auth')
    invitation = stack.program('invitation')
  })
  after(async () => {
    await stack?.stop()
  })

  it('answers 401 to the old cookie on the first request after logout answered 204', async () => {
    const email = uniqueEmail('owner')
    const signedUp = await request(`${auth.url}/v1/auth/signup`, { json: { email, password } })
    const workspace = await request(`${auth.url}/v1/workspaces`, {
      cookie: signedUp.cookies.session,
      json: { name: 'Acme' },
    })
    const listUrl = `${invitation.url}/v1/invitations?workspaceId=${workspace.body.workspace.id}`
    // Several rounds: each one's answer is in invitation's cache when the sign-out comes.
    for (let round = 0; round < 10; round += 1) {
      const signedIn = await request(`${auth.url}/v1/auth/login`, { json: { email, password } })
      const cookie = signedIn.cookies.session as string
      for (let read = 0; read < 3; read += 1) assert.equal((await request(listUrl, { cookie })).status, 200)
      const loggedOut = await request(`${auth.url}/v1/auth/logout`, { method: 'POST', cookie })
      assert.equal(loggedOut.status, 204)
      const after = await request(listUrl, { cookie })
      assert.equal(after.status, 401, `round ${round}: ${JSON.stringify(after.body)}`)
      assert.equal(after.body.error, 'unauthenticated')
    }
  })
})
