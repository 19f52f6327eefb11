// Responses per second on one identical Entra-shaped response (RSA-2048, assertion signed with
// RSA-SHA256 and exclusive c14n, as the dev IdP and Entra send it):
//   - @gatehouse/saml full validation (parse once, schema, structure, signature, all SAML checks);
//   - samlify 2.13.1's own parseLoginResponse, given the same schema validator;
//   - the floor: one XML parse, exclusive c14n + SHA-256 of the assertion, one RSA verify with a
//     cached KeyObject (no check at all: the least any correct validator must do).
// Run: npx tsx test/bench/saml.bench.ts (from the repository root).
import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto'
import { createRequire } from 'node:module'
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import {
  createSamlConnection,
  idpConfigFromValues,
  type ReplayStore,
  samlifySchemaValidator,
  serviceProviderUrls,
} from '@gatehouse/saml'
import samlify from 'samlify'

// The floor uses the very parser and canonicalizer @gatehouse/saml uses, resolved from that package.
const requireFromSaml = createRequire(new URL('../../packages/saml/package.json', import.meta.url))
const { DOMParser } = requireFromSaml('@xmldom/xmldom') as typeof import('@xmldom/xmldom')
const { ExclusiveCanonicalization } = requireFromSaml('xml-crypto') as {
  ExclusiveCanonicalization: new () => { process(node: unknown, options: object): string }
}

const ROUNDS = 3
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1500)

const idp = createDevIdp({ keys: await generateSigningKeys() })
const sp = serviceProviderUrls('https://gatehouse.example/', 'bench')
const now = new Date()
const requestId = 'id-bench-request'
const samlResponse = idp.responseBase64({
  sp,
  user: { email: 'ada.lovelace@example.com', firstName: 'Ada', lastName: 'Lovelace' },
  inResponseTo: requestId,
  now,
})
const idpConfig = idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem })

// The same response is validated again and again: a store that remembers nothing.
const acceptEverything: ReplayStore = { remember: async () => true }
const connection = createSamlConnection({ sp, idp: idpConfig, allowIdpInitiated: false })
async function gatehouseFull(): Promise<void> {
  const identity = await connection.validateResponse({
    samlResponse,
    expectedRequestId: requestId,
    now,
    replayStore: acceptEverything,
  })
  if (identity.email !== 'ada.lovelace@example.com') throw new Error('unexpected identity')
}

samlify.setSchemaValidator(samlifySchemaValidator)
const samlifySp = samlify.ServiceProvider({
  entityID: sp.entityId,
  wantAssertionsSigned: true,
  assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: sp.acsUrl }],
})
const samlifyIdp = samlify.IdentityProvider({
  entityID: idp.entityId,
  signingCert: idp.certificatePem,
  singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: idp.loginUrl }],
  singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: idp.loginUrl }],
})
async function samlifyParseLoginResponse(): Promise<void> {
  const result = await samlifySp.parseLoginResponse(samlifyIdp, 'post', { body: { SAMLResponse: samlResponse } })
  if (result.extract.nameID !== 'ada.lovelace@example.com') throw new Error('unexpected samlify result')
}

const cachedKey = createPublicKey(idp.certificatePem)
const canonicalizer = new ExclusiveCanonicalization()
const dsig = 'http://www.w3.org/2000/09/xmldsig#'
async function floor(): Promise<void> {
  const document = new DOMParser().parseFromString(Buffer.from(samlResponse, 'base64').toString('utf8'), 'text/xml')
  const assertion = document.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Assertion')[0]
  const signature = assertion?.getElementsByTagNameNS(dsig, 'Signature')[0]
  if (assertion === undefined || signature === undefined) throw new Error('no signed assertion')
  const signedInfo = signature.getElementsByTagNameNS(dsig, 'SignedInfo')[0]
  const digestValue = signature.getElementsByTagNameNS(dsig, 'DigestValue')[0]?.textContent ?? ''
  const signatureValue = signature.getElementsByTagNameNS(dsig, 'SignatureValue')[0]?.textContent ?? ''
  assertion.removeChild(signature)
  const digest = createHash('sha256')
    .update(canonicalizer.process(assertion as never, {}))
    .digest()
  if (!timingSafeEqual(digest, Buffer.from(digestValue, 'base64'))) throw new Error('digest mismatch')
  const verified = verify(
    'sha256',
    Buffer.from(canonicalizer.process(signedInfo as never, {})),
    cachedKey,
    Buffer.from(signatureValue, 'base64'),
  )
  if (!verified) throw new Error('signature mismatch')
}

async function responsesPerSecond(run: () => Promise<void>): Promise<number> {
  let count = 0
  const started = performance.now()
  let elapsed = 0
  while (elapsed < ROUND_MS) {
    for (let index = 0; index < 20; index++) await run()
    count += 20
    elapsed = performance.now() - started
  }
  return (count * 1000) / elapsed
}

const candidates = { gatehouseFull, samlifyParseLoginResponse, floor }
for (const run of Object.values(candidates)) for (let index = 0; index < 200; index++) await run()

const best: Record<keyof typeof candidates, number> = { gatehouseFull: 0, samlifyParseLoginResponse: 0, floor: 0 }
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(candidates) as Array<[keyof typeof candidates, () => Promise<void>]>) {
    best[name] = Math.max(best[name], await responsesPerSecond(run))
  }
}

const format = (value: number) => value.toFixed(0).padStart(8)
const perCall = (value: number) => `${(1000 / value).toFixed(3)} ms`
console.log(
  `SAML response validation, ${Buffer.from(samlResponse, 'base64').length} bytes Entra-shaped response, best of ${ROUNDS} rounds of ${ROUND_MS} ms`,
)
console.log(
  `  @gatehouse/saml validateResponse (full) ${format(best.gatehouseFull)} responses/s  ${perCall(best.gatehouseFull)}`,
)
console.log(
  `  samlify parseLoginResponse (same schema) ${format(best.samlifyParseLoginResponse)} responses/s  ${perCall(best.samlifyParseLoginResponse)}`,
)
console.log(`  floor (parse + c14n + SHA-256 + verify) ${format(best.floor)} responses/s  ${perCall(best.floor)}`)
console.log(
  `  ratio gatehouse / samlify: ${(best.gatehouseFull / best.samlifyParseLoginResponse).toFixed(2)} (target >= 1.0)`,
)
console.log(`  ratio gatehouse / floor:   ${(best.gatehouseFull / best.floor).toFixed(2)}`)
