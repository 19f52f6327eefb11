import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys, type SigningKeys } from '@gatehouse/dev-idp'
import {
  createSamlConnection,
  idpConfigFromMetadata,
  idpConfigFromValues,
  MemoryReplayStore,
  type SamlConnection,
  SamlError,
  serviceProviderUrls,
} from '../src/index.ts'
import { buildHostileCorpus } from './corpus.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_1')
const user = { email: 'Ada.Lovelace@Example.com', firstName: 'Ada', lastName: 'Lovelace' }
const MINUTE_MS = 60_000

let idp: DevIdp
let attackerKeys: SigningKeys

function connect(options: { allowIdpInitiated?: boolean; allowSha1?: boolean; idp?: DevIdp } = {}): SamlConnection {
  const issuer = options.idp ?? idp
  return createSamlConnection({
    sp,
    idp: idpConfigFromValues({
      ssoUrl: issuer.loginUrl,
      entityId: issuer.entityId,
      certificate: issuer.certificatePem,
    }),
    allowIdpInitiated: options.allowIdpInitiated ?? false,
    ...(options.allowSha1 === undefined ? {} : { allowSha1: options.allowSha1 }),
  })
}

before(async () => {
  idp = createDevIdp({ keys: await generateSigningKeys() })
  attackerKeys = await generateSigningKeys()
})

describe('responses of the dev IdP (Entra-shaped)', () => {
  it('an SP-initiated response passes, with the identity and claims mapped', async () => {
    const connection = connect()
    const { requestId } = connection.createAuthnRequest({})
    const identity = await connection.validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: requestId }),
      expectedRequestId: requestId,
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
    assert.equal(identity.nameId, 'Ada.Lovelace@Example.com')
    assert.equal(identity.firstName, 'Ada')
    assert.equal(identity.lastName, 'Lovelace')
    assert.equal(identity.issuer, idp.entityId)
    assert.equal(identity.inResponseTo, requestId)
    assert.deepEqual(identity.attributes.firstName, ['Ada'])
    assert.deepEqual(identity.attributes['http://schemas.microsoft.com/identity/claims/tenantid'], [idp.tenantId])
    assert.ok(identity.notOnOrAfter.getTime() > Date.now())
  })

  it('an IdP-initiated response passes when the connection allows it', async () => {
    const identity = await connect({ allowIdpInitiated: true }).validateResponse({
      samlResponse: idp.responseBase64({ sp, user }),
      expectedRequestId: null,
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.inResponseTo, null)
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })

  it("Entra's portal test button (InResponseTo F84D…) counts as IdP-initiated, even while a request is pending", async () => {
    const identity = await connect({ allowIdpInitiated: true }).validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'F84D888AA3B44C1B844375A4E8210D9E' }),
      expectedRequestId: 'id-pending-request',
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.inResponseTo, null)
  })

  it('a response signed on both the Response and the Assertion passes', async () => {
    const identity = await connect().validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'id-1', signResponse: true }),
      expectedRequestId: 'id-1',
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })

  it('a response whose only signature is on the Response passes', async () => {
    const identity = await connect().validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'id-1', signResponse: true, signAssertion: false }),
      expectedRequestId: 'id-1',
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })

  for (const skewMinutes of [2, -2]) {
    it(`a response from an IdP whose clock is ${skewMinutes > 0 ? 'ahead' : 'behind'} by 2 minutes passes`, async () => {
      const now = new Date()
      const identity = await connect().validateResponse({
        samlResponse: idp.responseBase64({
          sp,
          user,
          inResponseTo: 'id-1',
          // Ahead: Conditions NotBefore (issue - 5 min) lies 2 minutes in our future. Behind: the
          // bearer window (issue + 5 min) closed 2 minutes ago. Both are inside the default 3-minute skew.
          now: new Date(now.getTime() + skewMinutes * MINUTE_MS + (skewMinutes < 0 ? -5 * MINUTE_MS : 5 * MINUTE_MS)),
        }),
        expectedRequestId: 'id-1',
        now,
        replayStore: new MemoryReplayStore(),
      })
      assert.equal(identity.email, 'ada.lovelace@example.com')
    })
  }

  it('RSA-SHA1 passes only on a connection that opted in', async () => {
    const identity = await connect({ allowSha1: true }).validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'id-1', signatureAlgorithm: 'rsa-sha1' }),
      expectedRequestId: 'id-1',
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })

  it('an ECDSA-signed response passes with the EC certificate configured', async () => {
    const ecIdp = createDevIdp({ keys: await generateSigningKeys({ keyType: 'ec' }) })
    const identity = await connect({ idp: ecIdp }).validateResponse({
      samlResponse: ecIdp.responseBase64({ sp, user, inResponseTo: 'id-1' }),
      expectedRequestId: 'id-1',
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })

  it('a connection built from the dev IdP federation metadata accepts its responses', async () => {
    const connection = createSamlConnection({
      sp,
      idp: idpConfigFromMetadata(idp.federationMetadataXml()),
      allowIdpInitiated: false,
    })
    const identity = await connection.validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'id-1' }),
      expectedRequestId: 'id-1',
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })

  it('the same response posted twice is refused as replayed the second time', async () => {
    const connection = connect()
    const replayStore = new MemoryReplayStore()
    const input = {
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'id-1' }),
      expectedRequestId: 'id-1',
      replayStore,
    }
    await connection.validateResponse(input)
    await assert.rejects(
      connection.validateResponse(input),
      (error) => error instanceof SamlError && error.reason === 'replayed',
    )
  })

  it('a refused response does not use up its assertion ID', async () => {
    const connection = connect()
    const replayStore = new MemoryReplayStore()
    const samlResponse = idp.responseBase64({ sp, user, inResponseTo: 'id-1' })
    await assert.rejects(connection.validateResponse({ samlResponse, expectedRequestId: 'id-2', replayStore }))
    assert.equal(replayStore.size, 0)
  })
})

describe('the hostile corpus', () => {
  it('has at least 30 variants with distinct names', () => {
    const corpus = buildHostileCorpus({ idp, attackerKeys, sp, requestId: 'id-corpus', now: new Date(), user })
    assert.ok(corpus.length >= 30, `${corpus.length} variants`)
    assert.equal(new Set(corpus.map((variant) => variant.name)).size, corpus.length)
  })

  it('every variant is refused with its expected reason and an admin-readable message', async () => {
    const now = new Date()
    const connection = connect()
    const corpus = buildHostileCorpus({ idp, attackerKeys, sp, requestId: 'id-corpus', now, user })
    const wrong: string[] = []
    for (const variant of corpus) {
      try {
        await connection.validateResponse({
          samlResponse: variant.samlResponse,
          expectedRequestId: variant.expectedRequestId,
          now,
          replayStore: new MemoryReplayStore(),
        })
        wrong.push(`${variant.name}: accepted`)
      } catch (error) {
        if (!(error instanceof SamlError)) wrong.push(`${variant.name}: ${String(error)}`)
        else if (error.reason !== variant.expectedReason) {
          wrong.push(`${variant.name}: ${error.reason} (${error.message}), expected ${variant.expectedReason}`)
        } else if (/<[A-Za-z!?]/.test(error.message) || error.message.length > 600) {
          wrong.push(`${variant.name}: message not fit for an admin: ${error.message}`)
        }
      }
    }
    assert.deepEqual(wrong, [])
  })

  it('the valid response the corpus derives its variants from is itself accepted', async () => {
    const now = new Date()
    const identity = await connect().validateResponse({
      samlResponse: idp.responseBase64({ sp, user, inResponseTo: 'id-corpus', now }),
      expectedRequestId: 'id-corpus',
      now,
      replayStore: new MemoryReplayStore(),
    })
    assert.equal(identity.email, 'ada.lovelace@example.com')
  })
})
