import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDevIdp, generateSigningKeys, signElement } from '@gatehouse/dev-idp'
import {
  createSamlConnection,
  idpConfigFromValues,
  type ReplayStore,
  SamlError,
  serviceProviderUrls,
} from '../src/index.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_lifetime')
const hourMs = 60 * 60 * 1000

/** A replay store that records how long it was asked to remember each assertion. */
function recordingStore() {
  const remembered: Date[] = []
  const store: ReplayStore = {
    remember: async (_id, expiresAt) => {
      remembered.push(expiresAt)
      return true
    },
  }
  return { store, remembered }
}

describe('how long an accepted assertion may stay valid', async () => {
  const idp = createDevIdp({ keys: await generateSigningKeys() })
  const saml = createSamlConnection({
    sp,
    idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificateBase64 }),
    allowIdpInitiated: true,
  })
  const now = new Date()
  /** A genuine, signed response whose Conditions end at `conditionsEnd`. */
  const responseValidUntil = (conditionsEnd: string) => {
    const unsigned = idp.responseXml({ sp, user: { email: 'ada@example.com' }, now, signAssertion: false })
    const xml = unsigned.replace(/(<Conditions [^>]*NotOnOrAfter=")[^"]+"/, `$1${conditionsEnd}"`)
    const assertionId = /<Assertion [^>]*ID="([^"]+)"/.exec(xml)?.[1] ?? ''
    return Buffer.from(signElement(xml, assertionId, { keys: idp.keys })).toString('base64')
  }

  it('refuses a window reaching past 24 hours (NotOnOrAfter="9999-12-31…") and remembers nothing', async () => {
    const { store, remembered } = recordingStore()
    await assert.rejects(
      saml.validateResponse({
        samlResponse: responseValidUntil('9999-12-31T23:59:59Z'),
        expectedRequestId: null,
        now,
        replayStore: store,
      }),
      (error) => error instanceof SamlError && error.reason === 'validity_too_long',
    )
    assert.deepEqual(remembered, [])
  })

  it('accepts a 23-hour window, and remembers the assertion no longer than 24 hours', async () => {
    const { store, remembered } = recordingStore()
    const identity = await saml.validateResponse({
      samlResponse: responseValidUntil(new Date(now.getTime() + 23 * hourMs).toISOString()),
      expectedRequestId: null,
      now,
      replayStore: store,
    })
    assert.equal(identity.email, 'ada@example.com')
    const [until] = remembered
    assert.ok(until !== undefined && until.getTime() - now.getTime() <= 24 * hourMs)
    assert.ok(until.getTime() - now.getTime() >= 23 * hourMs)
  })
})
