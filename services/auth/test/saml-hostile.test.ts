import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { rowsOf } from '@gatehouse/db'
import { generateSigningKeys, type SigningKeys } from '@gatehouse/dev-idp'
import { hostileVariants } from '@gatehouse/saml/test-corpus'
import { uniqueIp } from '@gatehouse/testing'
import { sql } from 'drizzle-orm'
import { outbox } from '../src/db/schema.ts'
import {
  type AuthTestApp,
  type ConnectionView,
  postToAcs,
  sessionCookieOf,
  signInSpInitiated,
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
    return hostileVariants({
      idp: fixture.idp,
      attackerKeys,
      sp: connection.sp,
      requestId,
      now: new Date(),
      user: { email: fixture.owner.email, firstName: 'Mallory' },
    })
  }

  /** Each variant posted after its own login start, so SP-initiated ones meet a real pending request. */
  async function postEachVariant(
    connection: ConnectionView,
    check: (name: string, response: Awaited<ReturnType<typeof postToAcs>>, expectedReason: string) => void,
  ) {
    const names = corpusFor(connection, 'id-unused').map((variant) => variant.name)
    assert.ok(names.length >= 30, `${names.length} variants`)
    for (const name of names) {
      const started = await startSpLogin(auth.app, connection)
      const variant = corpusFor(connection, started.requestId).find((candidate) => candidate.name === name)
      assert.ok(variant)
      // Only this variant is signed, for this start's request ID.
      const samlResponse = variant.samlResponse()
      const form =
        variant.expectedRequestId === null
          ? { SAMLResponse: samlResponse }
          : { SAMLResponse: samlResponse, RelayState: started.relayState }
      check(name, await postToAcs(auth.app, connection.id, form, started.bindingCookie), variant.expectedReason)
    }
  }

  it('answers 4xx with a reason and no session to each variant', async () => {
    await postEachVariant(fixture.connection, (name, response, expectedReason) => {
      assert.ok(
        response.statusCode >= 400 && response.statusCode < 500,
        `${name}: ${response.statusCode} ${response.body}`,
      )
      assert.equal(sessionCookieOf(response), undefined, name)
      const body = response.json()
      assert.ok(['saml_invalid', 'saml_replayed'].includes(body.error), `${name}: ${response.body}`)
      if (body.error === 'saml_invalid') assert.equal(body.reason, expectedReason, name)
    })
  })

  it("speaks of Entra's screens only to a connection set up with Entra: other IdPs get IdP-neutral advice", async () => {
    const adviceByKind: Record<string, string[]> = {}
    for (const idpKind of ['entra', 'okta']) {
      const { owner, workspace, connection } = await workspaceWithSso(auth.app)
      const patched = await auth.app.inject({
        method: 'PATCH',
        url: `/v1/workspaces/${workspace.id}/sso`,
        headers: { cookie: owner.cookie },
        payload: { idpKind },
      })
      assert.equal(patched.json().connection.idpKind, idpKind)
      const messages: string[] = []
      await postEachVariant(connection, (name, response, expectedReason) => {
        const body = response.json()
        if (body.error === 'saml_invalid') assert.equal(body.reason, expectedReason, name)
        // A refusal status carries the IdP's own words (the corpus imitates Entra's AADSTS50105): relayed as sent.
        if (expectedReason !== 'status_not_success') messages.push(body.message)
      })
      adviceByKind[idpKind] = messages
    }
    assert.ok(
      adviceByKind.entra?.some((message) => /\bEntra\b/.test(message)),
      'Entra connections keep Entra advice',
    )
    for (const message of adviceByKind.okta ?? []) assert.doesNotMatch(message, /Entra|AADSTS|My Apps/)
    assert.ok(
      adviceByKind.okta?.some((message) => /identity provider's settings for this application/.test(message)),
      'the neutral advice is given',
    )
  })

  it('turns an address away after 60 refused responses in a minute, before any work; others are unaffected', async () => {
    const { connection, idp, owner } = fixture
    const flooder = uniqueIp()
    const garbage = { SAMLResponse: Buffer.from('<x/>').toString('base64') }
    const statuses: number[] = []
    for (let attempt = 0; attempt < 63; attempt++) {
      statuses.push((await postToAcs(auth.app, connection.id, garbage, '', flooder)).statusCode)
    }
    assert.deepEqual(statuses, [...Array(61).fill(400), 429, 429])
    const turnedAway = await postToAcs(auth.app, connection.id, garbage, '', flooder)
    assert.equal(turnedAway.json().error, 'rate_limited')
    // The refusals past the limit wrote no failed-login event.
    const [{ failed }] = rowsOf<{ failed: number }>(
      await auth.db.execute(
        sql`select count(*)::int as failed from ${outbox} where ${outbox.type} = 'auth.login.failed' and ${outbox.event}->>'ip' = ${flooder}`,
      ),
    ) as [{ failed: number }]
    assert.equal(failed, 61)
    // Another address still gets a precise refusal, and a genuine response still signs in.
    assert.equal((await postToAcs(auth.app, connection.id, garbage)).json().reason, 'schema_invalid')
    const { acs: signedIn } = await signInSpInitiated(auth.app, connection, idp, { email: owner.email })
    assert.equal(signedIn.statusCode, 302, signedIn.body)
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

  it('refuses random corruptions of genuine responses, never a 5xx; only edits of what the signature ignores pass', async () => {
    const { connection, idp, owner, workspace } = fixture
    await auth.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${workspace.id}/sso`,
      headers: { cookie: owner.cookie },
      payload: { allowIdpInitiated: true },
    })
    // Seeded, so a failure names a mutation that can be replayed.
    const random = seededRandom(20261128)
    const pick = (length: number) => Math.floor(random() * length)
    const noise = ['<', '>', '&', '"', "'", '=', '/', '<!--', ']]>', '&amp;', '\u0000', 'é', ' ', 'x']
    const outcomes = new Map<number, number>()
    const genuineXml = () =>
      Buffer.from(idp.responseBase64({ sp: connection.sp, user: { email: owner.email } }), 'base64').toString()
    // A genuine response whose assertion ID no answer has spent: signed afresh after an answer
    // other than a refusal (an accepted response spends its ID; a refused one leaves it unspent),
    // and each minute, far inside its validity window.
    let xml = genuineXml()
    let signedAt = Date.now()
    for (let index = 0; index < 300; index++) {
      const at = pick(xml.length)
      const span = 1 + pick(40)
      // Each mutation with the end of the original text it touches (insertions touch nothing).
      const mutations: [string, number][] = [
        [xml.slice(0, at) + xml.slice(at + span), at + span],
        [xml.slice(0, at) + xml.slice(at, at + span) + xml.slice(at), at],
        [xml.slice(0, at) + noise[pick(noise.length)] + xml.slice(at + 1), at + 1],
        [xml.slice(0, at), xml.length],
        [xml.slice(0, at) + xml.slice(pick(xml.length)).slice(0, span) + xml.slice(at), at],
      ]
      const kind = pick(mutations.length)
      const [corrupted, touchedEnd] = mutations[kind] as [string, number]
      if (corrupted === xml) continue
      const response = await postToAcs(auth.app, connection.id, {
        SAMLResponse: Buffer.from(corrupted).toString('base64'),
      })
      const context = `mutation ${index} (kind ${kind} at ${at}, ${span}): ${response.statusCode} ${response.body.slice(0, 200)}`
      assert.ok(response.statusCode < 500, context)
      // Each mutation is judged on its own: never refused for an ID an earlier one spent.
      assert.doesNotMatch(response.body, /saml_replayed/, context)
      outcomes.set(response.statusCode, (outcomes.get(response.statusCode) ?? 0) + 1)
      // 200: judged genuine, and waiting for the person's confirmation (IdP-initiated).
      if (response.statusCode === 200) {
        // Accepted only if the edit is inside a KeyInfo (the embedded certificate: not signed,
        // and ignored, as only the configured certificates count) or changed whitespace alone
        // (which canonicalization may forgive inside a tag).
        const insideKeyInfo = [...xml.matchAll(/<(?:\w+:)?KeyInfo>([\s\S]*?)<\/(?:\w+:)?KeyInfo>/g)].some((match) => {
          const contentStart = (match.index ?? 0) + match[0].indexOf('>') + 1
          return contentStart <= at && touchedEnd <= contentStart + (match[1]?.length ?? 0)
        })
        const whitespaceOnly = corrupted.replace(/\s/g, '') === xml.replace(/\s/g, '')
        assert.ok(insideKeyInfo || whitespaceOnly, `accepted a corrupted response: ${context}`)
      } else {
        assert.ok(response.statusCode >= 400, context)
        assert.equal(sessionCookieOf(response), undefined, context)
      }
      if (response.statusCode !== 400 || Date.now() - signedAt > 60_000) {
        xml = genuineXml()
        signedAt = Date.now()
      }
    }
    assert.ok((outcomes.get(400) ?? 0) > 200, `outcomes ${JSON.stringify([...outcomes])}`)
  })
})

/** mulberry32: a small seeded PRNG, so a failing mutation can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = Math.imul(state ^ (state >>> 15), 1 | state)
    value ^= value + Math.imul(value ^ (value >>> 7), 61 | value)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}
