// Memory stays flat under hostile traffic: 10,000 validations (every variant of the hostile corpus
// and valid responses, round robin) in one process; RSS after all of them must stay within 50 MB of
// RSS after the first 1,000. Exits non-zero otherwise.
// Run: npx tsx test/bench/saml-memory.bench.ts (from the repository root).
import { createDevIdp, generateSigningKeys } from '@gatehouse/dev-idp'
import {
  createSamlConnection,
  idpConfigFromValues,
  MemoryReplayStore,
  SamlError,
  serviceProviderUrls,
} from '@gatehouse/saml'
import { buildHostileCorpus } from '@gatehouse/saml/test-corpus'

const TOTAL = 10_000
const BASELINE_AT = 1_000
const LIMIT_MB = 50

const idp = createDevIdp({ keys: await generateSigningKeys() })
const sp = serviceProviderUrls('https://gatehouse.example/', 'memory')
const user = { email: 'ada.lovelace@example.com', firstName: 'Ada', lastName: 'Lovelace' }
const now = new Date()
const requestId = 'id-memory-request'
const connection = createSamlConnection({
  sp,
  idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }),
  allowIdpInitiated: false,
})
const corpus = buildHostileCorpus({ idp, attackerKeys: await generateSigningKeys(), sp, requestId, now, user })
const valid = Array.from({ length: 20 }, () => ({
  name: 'valid',
  samlResponse: idp.responseBase64({ sp, user, inResponseTo: requestId, now }),
  expectedRequestId: requestId,
}))
const traffic = [...corpus, ...valid]
// A real replay store, as the ACS uses one: valid responses are accepted once, then refused as replays.
const replayStore = new MemoryReplayStore()

const mb = (bytes: number) => bytes / 1024 / 1024
let baselineRss = 0
const outcomes = new Map<string, number>()
for (let index = 0; index < TOTAL; index++) {
  const variant = traffic[index % traffic.length]
  if (variant === undefined) continue
  try {
    await connection.validateResponse({ ...variant, now, replayStore })
    outcomes.set('accepted', (outcomes.get('accepted') ?? 0) + 1)
  } catch (error) {
    if (!(error instanceof SamlError)) throw error
    outcomes.set(error.reason, (outcomes.get(error.reason) ?? 0) + 1)
  }
  if (index + 1 === BASELINE_AT) baselineRss = process.memoryUsage().rss
}
const finalRss = process.memoryUsage().rss
const growth = mb(finalRss - baselineRss)
console.log(
  `SAML validation memory: ${TOTAL} validations of ${corpus.length} hostile variants and ${valid.length} valid responses`,
)
console.log(`  RSS after first ${BASELINE_AT}: ${mb(baselineRss).toFixed(1)} MB`)
console.log(`  RSS after ${TOTAL}:      ${mb(finalRss).toFixed(1)} MB`)
console.log(`  growth: ${growth.toFixed(1)} MB (limit ${LIMIT_MB} MB)`)
console.log(`  outcomes: ${[...outcomes].map(([reason, count]) => `${reason}=${count}`).join(' ')}`)
if (growth > LIMIT_MB) {
  console.error('RSS grew beyond the limit')
  process.exit(1)
}
