// Issue 12, item 6: a revoked session is refused everywhere at once. The invitation service keeps
// auth's introspection answers for half a second; auth announces each ended session on Redis
// before it answers, so the very next request to invitation with the old cookie is refused.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sparePort, temporaryDirectory, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolated-database.ts'
import { type RunningProcess, startProcess } from '../support/processes.ts'
import { unusedRedisDatabaseUrl } from '../support/redis-database.ts'

const password = 'correct horse battery staple'

describe('signing out ends the session at the invitation service at once', () => {
  const dataDir = temporaryDirectory()
  let auth: RunningProcess
  let invitation: RunningProcess

  // A database of this file's own: processes relay every unpublished outbox row of theirs.
  let database: IsolatedDatabase | undefined
  before(async () => {
    database = await createIsolatedDatabase({ migrated: true })
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: await unusedRedisDatabaseUrl(),
      PUBLIC_URL: 'http://localhost:3000',
      INTERNAL_TOKEN: `e2e-internal-token-${uniqueSuffix()}-${'x'.repeat(32)}`,
      DATA_DIR: dataDir.path,
      SMTP_URL: '',
    }
    auth = await startProcess('auth', { ...shared, PORT: String(await sparePort()) })
    invitation = await startProcess('invitation', {
      ...shared,
      AUTH_URL: auth.url,
      PORT: String(await sparePort()),
      MAIL_QUEUE: `e2e-sign-out-${uniqueSuffix()}`,
    })
  })
  after(async () => {
    await Promise.all([invitation?.stop(), auth?.stop()])
    await database?.drop()
    dataDir.remove()
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
