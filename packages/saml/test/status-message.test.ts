import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import {
  createSamlConnection,
  idpConfigFromValues,
  MemoryReplayStore,
  SamlError,
  serviceProviderUrls,
} from '../src/index.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_status')
const lure = 'Your account is locked: call +1 555 0100 or visit evil.example to restore it'

describe("an IdP's refusal status", async () => {
  const idp = createDevIdp({ keys: await generateSigningKeys() })
  const saml = createSamlConnection({
    sp,
    idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificateBase64 }),
    allowIdpInitiated: true,
  })
  const refusal = async (options: { signResponse: boolean; statusCode?: string }) => {
    const samlResponse = idp.responseBase64({
      sp,
      user: { email: 'ada@example.com' },
      statusCode: options.statusCode ?? 'urn:oasis:names:tc:SAML:2.0:status:Responder',
      statusMessage: lure,
      signResponse: options.signResponse,
    })
    try {
      await saml.validateResponse({ samlResponse, expectedRequestId: null, replayStore: new MemoryReplayStore() })
    } catch (error) {
      assert.ok(error instanceof SamlError)
      assert.equal(error.reason, 'status_not_success')
      return error.message
    }
    assert.fail('the refusal was accepted')
  }

  it('never repeats the StatusMessage of an unsigned response, which anyone could have written', async () => {
    const message = await refusal({ signResponse: false })
    assert.match(message, /status Responder/)
    assert.doesNotMatch(message, /555|evil|locked/)
  })

  it('names a status code outside the SAML vocabulary "unknown" rather than repeating it', async () => {
    const message = await refusal({ signResponse: false, statusCode: 'Call +1 555 0100 now' })
    assert.match(message, /status unknown/)
    assert.doesNotMatch(message, /555/)
  })

  it("quotes the StatusMessage as the IdP's words when the IdP signed the response", async () => {
    const message = await refusal({ signResponse: true })
    assert.match(message, /the IdP says: “Your account is locked/)
  })
})
