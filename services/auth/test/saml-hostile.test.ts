import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateSigningKeys, type SigningKeys } from '@gatehouse/dev-idp'
import { buildHostileCorpus } from '@gatehouse/saml/test-corpus'
import {
  type AuthTestApp,
  type ConnectionView,
  postToAcs,
  sessionCookieOf,
  startAuthApp,
  startSpLogin,
  workspaceWithSso,
} from './harness.ts'

// Every variant of @gatehouse/saml's hostile corpus, posted to the real ACS route the way a
// browser would (SP-initiated ones after a real login start, with its binding cookie).
describe('the ACS refuses every hostile response', () => {
  let auth: AuthTestApp
  let attackerKeys: SigningKeys
  let fixture: Awaited<ReturnType<typeof workspaceWithSso>>
  before(async () => {
    auth = await startAuthApp()
    attackerKeys = await generateSigningKeys()
    fixture = await workspaceWithSso(auth.app)
  })
  after(() => auth.close())

  function corpusFor(connection: ConnectionView, requestId: string) {
    return buildHostileCorpus({
      idp: fixture.idp,
      attackerKeys,
      sp: connection.sp,
      requestId,
      now: new Date(),
      user: { email: fixture.owner.email, firstName: 'Mallory' },
    })
  }

  it('answers 4xx with a reason and no session to each variant', async () => {
    const { connection } = fixture
    const names = corpusFor(connection, 'id-unused').map((variant) => variant.name)
    assert.ok(names.length >= 30, `${names.length} variants`)
    for (const name of names) {
      // A fresh login per variant, so SP-initiated variants meet a real pending request.
      const started = await startSpLogin(auth.app, connection)
      const variant = corpusFor(connection, started.requestId).find((candidate) => candidate.name === name)
      assert.ok(variant)
      const form =
        variant.expectedRequestId === null
          ? { SAMLResponse: variant.samlResponse }
          : { SAMLResponse: variant.samlResponse, RelayState: started.relayState }
      const response = await postToAcs(auth.app, connection.id, form, started.bindingCookie)
      assert.ok(
        response.statusCode >= 400 && response.statusCode < 500,
        `${name}: ${response.statusCode} ${response.body}`,
      )
      assert.equal(sessionCookieOf(response), undefined, name)
      const body = response.json()
      assert.ok(['saml_invalid', 'saml_replayed'].includes(body.error), `${name}: ${response.body}`)
      if (body.error === 'saml_invalid') assert.equal(body.reason, variant.expectedReason, name)
    }
  })

  it('never answers 5xx to malformed posts', async () => {
    const { connection } = fixture
    const acs = `/sso/saml/${connection.id}/acs`
    const requests = [
      { url: acs, payload: '', contentType: 'application/x-www-form-urlencoded' },
      { url: acs, payload: 'SAMLResponse=', contentType: 'application/x-www-form-urlencoded' },
      { url: acs, payload: 'SAMLResponse=%%%', contentType: 'application/x-www-form-urlencoded' },
      { url: acs, payload: `SAMLResponse=${'A'.repeat(2_000_000)}`, contentType: 'application/x-www-form-urlencoded' },
      { url: acs, payload: 'SAMLResponse=PHg+&SAMLResponse=PHk+', contentType: 'application/x-www-form-urlencoded' },
      {
        url: acs,
        payload: `SAMLResponse=PHg%2B&RelayState=${'r'.repeat(5000)}`,
        contentType: 'application/x-www-form-urlencoded',
      },
      { url: acs, payload: '{"SAMLResponse":"PHg+"}', contentType: 'application/json' },
      { url: acs, payload: '<x/>', contentType: 'text/xml' },
      {
        url: '/sso/saml/not-a-uuid/acs',
        payload: 'SAMLResponse=PHg%2B',
        contentType: 'application/x-www-form-urlencoded',
      },
      {
        url: '/sso/saml/00000000-0000-4000-8000-000000000000/acs',
        payload: 'SAMLResponse=PHg%2B',
        contentType: 'application/x-www-form-urlencoded',
      },
    ]
    for (const request of requests) {
      const response = await auth.app.inject({
        method: 'POST',
        url: request.url,
        headers: { 'content-type': request.contentType },
        payload: request.payload,
      })
      assert.ok(
        response.statusCode >= 400 && response.statusCode < 500,
        `${request.url} ${request.payload.slice(0, 40)}: ${response.statusCode} ${response.body.slice(0, 200)}`,
      )
      assert.equal(sessionCookieOf(response), undefined)
    }
  })
})
