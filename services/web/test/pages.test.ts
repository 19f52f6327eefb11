import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { inProcessPressureLimits } from '@gatehouse/testing'
import type { FastifyInstance } from 'fastify'
import { buildApp as buildWebApp } from '../src/app.ts'
import { loadConfig, type WebConfig } from '../src/config.ts'

const buildApp = (config: WebConfig) => buildWebApp(config, { pressureLimits: inProcessPressureLimits })

import { assetNames } from '../src/pages/assets.ts'

const workspaceId = '0b7d6c1e-3f0a-4c55-9d1e-2a7b8c9d0e1f'
const pages = [
  '/login',
  '/signup',
  '/invite',
  '/end-session',
  '/',
  '/account/sessions',
  `/workspaces/${workspaceId}`,
  `/workspaces/${workspaceId}/sso`,
]

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

  it("offers four identity providers on the SSO page, each with its own console's field names, Entra's shown until one is chosen", async () => {
    const html = (await app.inject({ method: 'GET', url: `/workspaces/${workspaceId}/sso` })).body
    const picker = [
      ...html.matchAll(/<input type="radio" name="idpKind" id="idp-kind-(\w+)" value="(\w+)"[^>]*>\s*([^<]+)</g),
    ]
    assert.deepEqual(
      picker.map(([, id, value, name]) => [id, value, name?.trim()]),
      [
        ['entra', 'entra', 'Microsoft Entra ID'],
        ['okta', 'okta', 'Okta'],
        ['google', 'google', 'Google Workspace'],
        ['other', 'other', 'Other SAML 2.0 IdP'],
      ],
    )
    assert.match(html, /id="idp-kind-entra" value="entra"[^>]* checked>/)
    /** The label variant of `kind` for the field `id`, and whether it starts hidden. */
    const variant = (id: string, kind: string) => {
      const label = new RegExp(`<label for="${id}">(.*?)</label>`).exec(html)?.[1] ?? ''
      const match = new RegExp(`<span data-idp-kind="${kind}"( hidden)?>([^<]*)</span>`).exec(label)
      return { text: match?.[2], hidden: match?.[1] !== undefined }
    }
    const expected: Record<string, Record<string, string>> = {
      entra: {
        'sp-entity-id': 'Identifier (Entity ID)',
        'sp-acs-url': 'Reply URL (Assertion Consumer Service URL)',
        'idp-login-url': 'Login URL',
        'idp-entity-id': 'Microsoft Entra Identifier',
        'idp-certificate': 'Certificate (Base64)',
      },
      okta: {
        'sp-entity-id': 'Audience URI (SP Entity ID)',
        'sp-acs-url': 'Single sign-on URL',
        'idp-login-url': 'Identity Provider Single Sign-On URL',
        'idp-entity-id': 'Identity Provider Issuer',
        'idp-certificate': 'X.509 Certificate',
      },
      google: {
        'sp-entity-id': 'Entity ID',
        'sp-acs-url': 'ACS URL',
        'idp-login-url': 'SSO URL',
        'idp-entity-id': 'Entity ID',
        'idp-certificate': 'Certificate',
      },
      other: {
        'sp-entity-id': 'SP Entity ID (Audience)',
        'sp-acs-url': 'Assertion Consumer Service (ACS) URL, HTTP-POST binding',
        'idp-login-url': 'IdP Single Sign-On URL (HTTP-Redirect binding)',
        'idp-entity-id': 'IdP Entity ID (Issuer)',
        'idp-certificate': 'IdP signing certificate (PEM or Base64)',
      },
    }
    for (const [kind, labels] of Object.entries(expected)) {
      for (const [id, text] of Object.entries(labels)) {
        assert.deepEqual(variant(id, kind), { text, hidden: kind !== 'entra' }, `${kind} ${id}`)
      }
      // Each IdP's own steps, in its console's words.
      assert.match(html, new RegExp(`<ol class="steps" data-idp-kind="${kind}"${kind === 'entra' ? '' : ' hidden'} `))
    }
    assert.match(
      html,
      /data-idp-kind="okta" hidden[^>]*><li>In the Okta Admin Console, go to <strong>Applications<\/strong>/,
    )
    assert.match(
      html,
      /data-idp-kind="google" hidden[^>]*><li>In the Google Admin console, go to <strong>Apps<\/strong>/,
    )
  })

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
