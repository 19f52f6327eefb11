import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { assetNames } from '../src/pages/assets.ts'

const workspaceId = '0b7d6c1e-3f0a-4c55-9d1e-2a7b8c9d0e1f'
const pages = ['/login', '/signup', '/invite', '/', `/workspaces/${workspaceId}`, `/workspaces/${workspaceId}/sso`]

/** Every input, select and textarea has a <label for> or an aria-label (the browser test checks the live DOM too). */
function unlabelledFields(html: string): string[] {
  const labelled = new Set([...html.matchAll(/<label[^>]*\bfor="([^"]+)"/g)].map((match) => match[1]))
  return [...html.matchAll(/<(input|select|textarea)\b([^>]*)>/g)]
    .filter(([, , attributes = '']) => !/type="hidden"/.test(attributes) && !/aria-label="/.test(attributes))
    .map(([, , attributes = '']) => /\bid="([^"]+)"/.exec(attributes)?.[1] ?? '(no id)')
    .filter((id) => !labelled.has(id))
}

describe('pages', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildApp(loadConfig({ AUTH_URL: 'http://127.0.0.1:1', INVITATION_URL: 'http://127.0.0.1:1' }))
  })
  after(() => app.close())

  for (const url of pages) {
    it(`${url} is an HTML page whose every field has a label and whose scripts are files`, async () => {
      const response = await app.inject({ method: 'GET', url })
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), /^text\/html/)
      assert.equal(response.headers['cache-control'], 'no-store')
      assert.match(String(response.headers['content-security-policy']), /script-src 'self'(;|$)/)
      assert.deepEqual(unlabelledFields(response.body), [])
      assert.doesNotMatch(response.body, /<script(?![^>]*\bsrc=)/, 'no inline script')
      assert.doesNotMatch(response.body, /\son[a-z]+=/, 'no inline event handler')
      // Linking the icon keeps browsers from asking for /favicon.ico, a 404 in every first visit's log.
      assert.match(response.body, /<link rel="icon" href="\/assets\/favicon\.svg"/)
    })
  }

  it('serves each asset with its type, and nothing else from disk', async () => {
    const expectedTypes: Record<string, RegExp> = {
      css: /^text\/css/,
      js: /^text\/javascript/,
      svg: /^image\/svg\+xml/,
    }
    for (const name of assetNames) {
      const response = await app.inject({ method: 'GET', url: `/assets/${name}` })
      assert.equal(response.statusCode, 200, name)
      const expectedType = expectedTypes[name.slice(name.lastIndexOf('.') + 1)]
      assert.ok(expectedType, `no expected type for ${name}`)
      assert.match(String(response.headers['content-type']), expectedType, name)
    }
    for (const url of ['/assets/..%2Fsrc%2Fapp.ts', '/assets/app.ts', '/assets/']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url)
    }
  })

  it('asks browsers to upgrade to https only when the product is served over https', async () => {
    const login = await app.inject({ method: 'GET', url: '/login' })
    assert.doesNotMatch(String(login.headers['content-security-policy']), /upgrade-insecure-requests/)
    const https = await buildApp(loadConfig({ PUBLIC_URL: 'https://app.example.test' }))
    try {
      const secureLogin = await https.inject({ method: 'GET', url: '/login' })
      assert.match(String(secureLogin.headers['content-security-policy']), /upgrade-insecure-requests/)
    } finally {
      await https.close()
    }
  })

  it('answers an unknown page, or a workspace id that is not one, with a 404 page', async () => {
    for (const url of ['/nowhere', '/workspaces/not-a-uuid/sso', '/internal/sessions']) {
      const response = await app.inject({ method: 'GET', url })
      assert.equal(response.statusCode, 404, url)
      assert.match(response.body, /Page not found/)
    }
  })
})
