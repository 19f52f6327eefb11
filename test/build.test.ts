// What production runs: each program's bundle (`pnpm build`, dist/server.mjs) started with
// NODE_ENV=production on the Node the repository pins, finding everything it reads at run time —
// migrations, the common-passwords list, the argon2 addon, web's public/ and the API docs' pages.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sparePort, temporaryDirectory, uniqueEmail } from '@gatehouse/testing'
import { request } from './support/http-client.ts'
import { createIsolatedDatabase, type IsolatedDatabase } from './support/isolated-database.ts'
import { type RunningProcess, startProcess } from './support/processes.ts'
import { unusedRedisDatabaseUrl } from './support/redis-database.ts'

describe('the production build', () => {
  const dataDir = temporaryDirectory()
  let database: IsolatedDatabase
  let auth: RunningProcess
  let invitation: RunningProcess
  let web: RunningProcess

  before(async () => {
    database = await createIsolatedDatabase()
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      REDIS_URL: await unusedRedisDatabaseUrl(),
      COOKIE_SECRET: 'c'.repeat(32),
      INTERNAL_TOKEN: 'i'.repeat(32),
      SP_KEY_SECRET: 's'.repeat(32),
      // Never reached: no invitation is sent.
      SMTP_URL: 'smtp://127.0.0.1:9',
      DATA_DIR: dataDir.path,
    }
    auth = await startProcess('auth', { ...production, PORT: String(await sparePort()) })
    invitation = await startProcess('invitation', {
      ...production,
      PORT: String(await sparePort()),
      AUTH_URL: auth.url,
    })
    web = await startProcess('web', {
      ...production,
      PORT: String(await sparePort()),
      AUTH_URL: auth.url,
      INVITATION_URL: invitation.url,
    })
  })
  after(async () => {
    await Promise.all([web?.stop(), invitation?.stop(), auth?.stop()])
    await database?.drop()
    dataDir.remove()
  })

  it('auth applies its migrations, hashes with argon2 and refuses a password from its common-passwords list', async () => {
    const common = await request(`${auth.url}/v1/auth/signup`, {
      json: { email: uniqueEmail('common'), password: 'password123' },
    })
    assert.equal(common.status, 400, JSON.stringify(common.body))
    const created = await request(`${auth.url}/v1/auth/signup`, {
      json: { email: uniqueEmail('bundle'), password: 'correct horse battery staple' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
  })

  it('auth parses IdP metadata on its parser thread, whose module sits beside the bundle', async () => {
    const signedUp = await request(`${auth.url}/v1/auth/signup`, {
      json: { email: uniqueEmail('bundle-idp'), password: 'correct horse battery staple' },
    })
    const cookie = Object.values(signedUp.cookies).join('; ')
    const workspace = (await request(`${auth.url}/v1/workspaces`, { cookie, json: { name: 'Bundle' } })).body.workspace
    const sso = `${auth.url}/v1/workspaces/${workspace.id}/sso`
    assert.equal((await request(sso, { method: 'POST', cookie })).status, 201)
    const uploaded = await request(`${sso}/idp`, { method: 'PUT', cookie, json: { metadataXml: '<EntityDescriptor' } })
    // The parser's own refusal: a thread that did not start would answer 503.
    assert.equal(uploaded.status, 400, JSON.stringify(uploaded.body))
    assert.equal(uploaded.body.error, 'invalid_metadata')
    assert.match(uploaded.body.message, /not valid XML/)
  })

  it('invitation applies its migrations and answers ready', async () => {
    const ready = await request(`${invitation.url}/readyz`)
    assert.equal(ready.status, 200, JSON.stringify(ready.body))
  })

  it('web serves its pages, the files of its public/ folder and the shared return-to module', async () => {
    const page = await request(`${web.url}/login`, { accept: 'text/html' })
    assert.equal(page.status, 200)
    assert.match(String(page.body), /<form/)
    const styles = await request(`${web.url}/assets/styles.css`, { accept: 'text/css' })
    assert.equal(styles.status, 200)
    assert.ok(String(styles.body).length > 100)
    const sharedModule = await request(`${web.url}/assets/return-to.js`, { accept: 'text/javascript' })
    assert.equal(sharedModule.status, 200)
    assert.match(String(sharedModule.body), /export/)
  })

  it('serves the API documentation pages, whose files stay in their package', async () => {
    const page = await request(`${auth.url}/docs`, { accept: 'text/html' })
    assert.equal(page.status, 200)
    assert.match(String(page.body), /swagger-ui/i)
    const styles = await request(`${auth.url}/docs/static/swagger-ui.css`, { accept: 'text/css' })
    assert.equal(styles.status, 200)
    assert.ok(String(styles.body).length > 1000)
  })
})
