import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createSamlConnection,
  idpConfigFromMetadata,
  idpConfigFromValues,
  MemoryReplayStore,
  SamlError,
  type SamlErrorReason,
} from '../src/index.ts'
import { type EntraFixture, entraFixtures, fixtureBase64, fixtureText } from './entra-fixtures.ts'

const SKEW_MS = 180_000

function connectionFor(
  fixture: EntraFixture,
  options: { certificates?: string[]; allowIdpInitiated?: boolean; now?: Date } = {},
) {
  const now = options.now ?? new Date(fixture.issueInstant)
  const certificates = (options.certificates ?? [fixture.certificate]).flatMap(
    (name) =>
      idpConfigFromValues(
        {
          ssoUrl: 'https://login.microsoftonline.com/t/saml2',
          entityId: fixture.issuer,
          certificate: fixtureText(name),
        },
        { now },
      ).certificates,
  )
  return createSamlConnection({
    sp: {
      entityId: fixture.audience,
      acsUrl: fixture.acsUrl,
      metadataUrl: `${fixture.audience}/metadata`,
      loginUrl: `${fixture.audience}/login`,
    },
    idp: { ssoUrl: 'https://login.microsoftonline.com/t/saml2', entityId: fixture.issuer, certificates },
    allowIdpInitiated: options.allowIdpInitiated ?? false,
  })
}

function validate(
  fixture: EntraFixture,
  options: { at: Date; expectedRequestId?: string | null; certificates?: string[]; allowIdpInitiated?: boolean },
) {
  const connection = connectionFor(fixture, { ...options, now: new Date(fixture.issueInstant) })
  return connection.validateResponse({
    samlResponse: fixtureBase64(fixture.response),
    expectedRequestId: options.expectedRequestId === undefined ? fixture.inResponseTo : options.expectedRequestId,
    now: options.at,
    replayStore: new MemoryReplayStore({ now: () => options.at.getTime() }),
  })
}

async function refusal(promise: Promise<unknown>): Promise<SamlErrorReason> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof SamlError, `expected a SamlError, got ${String(error)}`)
    assert.doesNotMatch(error.message, /<\w/, 'an admin message never carries raw XML')
    return error.reason
  }
  assert.fail('the response was accepted')
}

function justAfter(fixture: EntraFixture): Date {
  return new Date(Date.parse(fixture.notOnOrAfter) + SKEW_MS)
}

describe('real Entra responses get the verdict of the fixtures README', () => {
  const accepted = { ...entraFixtures }
  // socialflow's NameID is persistent: checked on its own below.
  delete (accepted as Partial<typeof accepted>).socialflow

  for (const [name, fixture] of Object.entries(accepted)) {
    it(`${name} is accepted with its own certificate at its IssueInstant`, async () => {
      const identity = await validate(fixture, {
        at: new Date(fixture.issueInstant),
        allowIdpInitiated: fixture.inResponseTo === null,
      })
      assert.equal(identity.email, fixture.email)
      assert.equal(identity.issuer, fixture.issuer)
      assert.equal(identity.inResponseTo, fixture.inResponseTo)
      assert.equal(identity.nameIdFormat, 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')
      assert.equal(identity.sessionIndex, identity.assertionId, 'Entra sets SessionIndex to the assertion ID')
    })

    it(`${name} is refused as expired just after its window (NotOnOrAfter + skew)`, async () => {
      assert.equal(
        await refusal(validate(fixture, { at: justAfter(fixture), allowIdpInitiated: fixture.inResponseTo === null })),
        'expired',
      )
    })

    it(`${name} is still accepted one millisecond before its window closes (with skew)`, async () => {
      const at = new Date(justAfter(fixture).getTime() - 1)
      const identity = await validate(fixture, { at, allowIdpInitiated: fixture.inResponseTo === null })
      assert.equal(identity.email, fixture.email)
    })
  }

  it('ssoready (IdP-initiated) is refused as unsolicited when the connection does not allow IdP-initiated', async () => {
    const fixture = entraFixtures.ssoready as EntraFixture
    assert.equal(
      await refusal(validate(fixture, { at: new Date(fixture.issueInstant), allowIdpInitiated: false })),
      'unsolicited',
    )
  })

  it('the guest UPN NameID (#EXT#) of ssoready is a valid email, lower-cased', async () => {
    const fixture = entraFixtures.ssoready as EntraFixture
    const identity = await validate(fixture, { at: new Date(fixture.issueInstant), allowIdpInitiated: true })
    assert.equal(identity.nameId, 'ulysse.carion_codomaindata.com#EXT#@ulyssecarioncodomaindata.onmicrosoft.com')
  })

  it("badgr (a) maps Entra's givenname and surname claims to first and last name", async () => {
    const fixture = entraFixtures.badgrA as EntraFixture
    const identity = await validate(fixture, { at: new Date(fixture.issueInstant) })
    assert.equal(identity.firstName, 'Stu')
    assert.equal(identity.lastName, 'Dent')
    assert.deepEqual(identity.attributes['http://schemas.microsoft.com/identity/claims/displayname'], ['Stu Dent'])
  })

  it('badgr (a) is refused with the previous (rolled-over) certificate alone', async () => {
    const fixture = entraFixtures.badgrA as EntraFixture
    const reason = await refusal(
      validate(fixture, { at: new Date(fixture.issueInstant), certificates: ['badgr-2021.previous-cert.pem'] }),
    )
    assert.equal(reason, 'signature_invalid')
  })

  it('badgr (a) is accepted with both the previous and the current certificate configured', async () => {
    const fixture = entraFixtures.badgrA as EntraFixture
    const identity = await validate(fixture, {
      at: new Date(fixture.issueInstant),
      certificates: ['badgr-2021.previous-cert.pem', 'badgr-2021.cert.pem'],
    })
    assert.equal(identity.email, fixture.email)
  })

  it("badgr (a) posted while (b)'s request ID is expected is refused", async () => {
    const fixture = entraFixtures.badgrA as EntraFixture
    const reason = await refusal(
      validate(fixture, {
        at: new Date(fixture.issueInstant),
        expectedRequestId: entraFixtures.badgrB?.inResponseTo ?? null,
      }),
    )
    assert.equal(reason, 'in_response_to_mismatch')
  })

  it('an SP-initiated response posted with no request expected is refused', async () => {
    const fixture = entraFixtures.tercen as EntraFixture
    assert.equal(
      await refusal(
        validate(fixture, { at: new Date(fixture.issueInstant), expectedRequestId: null, allowIdpInitiated: true }),
      ),
      'in_response_to_mismatch',
    )
  })

  it('socialflow: the signature is valid but the persistent NameID is refused with advice for Entra', async () => {
    const fixture = entraFixtures.socialflow as EntraFixture
    const connection = connectionFor(fixture)
    const at = new Date(fixture.issueInstant)
    await assert.rejects(
      connection.validateResponse({
        samlResponse: fixtureBase64(fixture.response),
        expectedRequestId: fixture.inResponseTo,
        now: at,
        replayStore: new MemoryReplayStore(),
      }),
      (error: unknown) =>
        error instanceof SamlError &&
        error.reason === 'nameid_not_email' &&
        error.message.includes('user.mail') &&
        error.message.includes('Email address'),
    )
    assert.equal(await refusal(validate(fixture, { at: justAfter(fixture) })), 'expired')
  })

  it('the same real response validated twice is refused as replayed', async () => {
    const fixture = entraFixtures.tercen as EntraFixture
    const at = new Date(fixture.issueInstant)
    const connection = connectionFor(fixture)
    const replayStore = new MemoryReplayStore({ now: () => at.getTime() })
    const input = {
      samlResponse: fixtureBase64(fixture.response),
      expectedRequestId: fixture.inResponseTo,
      now: at,
      replayStore,
    }
    await connection.validateResponse(input)
    assert.equal(await refusal(connection.validateResponse(input)), 'replayed')
  })

  it('a real response whose signing certificate has expired by the validation time is refused as such', async () => {
    const fixture = entraFixtures.tercen as EntraFixture
    // The response's own window is ignored here: its conditions are checked after the signature.
    const reason = await refusal(validate(fixture, { at: new Date('2026-01-01T00:00:00Z') }))
    assert.equal(reason, 'certificate_expired')
  })
})

describe('real Entra federation metadata', () => {
  it('ssoready metadata (UTF-8 BOM, signed) parses to its Issuer, Login URL and certificate', () => {
    const metadata = fixtureText('ssoready-2023.federation-metadata.xml')
    assert.equal(metadata.charCodeAt(0), 0xfeff)
    const config = idpConfigFromMetadata(metadata, { now: new Date('2023-11-17T18:39:30Z') })
    assert.equal(config.entityId, 'https://sts.windows.net/a9054a0f-2011-4e31-b3ac-fd8c354146ec/')
    assert.equal(config.ssoUrl, 'https://login.microsoftonline.com/a9054a0f-2011-4e31-b3ac-fd8c354146ec/saml2')
    const fromPem = idpConfigFromValues(
      { ssoUrl: config.ssoUrl, entityId: config.entityId, certificate: fixtureText('ssoready-2023.cert.pem') },
      { now: new Date('2023-11-17T18:39:30Z') },
    )
    assert.deepEqual(
      config.certificates.map((certificate) => certificate.fingerprintSha256),
      fromPem.certificates.map((certificate) => certificate.fingerprintSha256),
    )
    assert.match(config.certificates[0]?.fingerprintSha256 ?? '', /^20:76:D8:86:.*:2E:50:49$/)
  })

  it('a connection built from the ssoready metadata accepts the ssoready response', async () => {
    const now = new Date('2023-11-17T18:39:30.314Z')
    const fixture = entraFixtures.ssoready as EntraFixture
    const idp = idpConfigFromMetadata(fixtureText('ssoready-2023.federation-metadata.xml'), { now })
    const connection = createSamlConnection({
      sp: { entityId: fixture.audience, acsUrl: fixture.acsUrl, metadataUrl: '', loginUrl: '' },
      idp,
      allowIdpInitiated: true,
    })
    const identity = await connection.validateResponse({
      samlResponse: fixtureBase64(fixture.response),
      expectedRequestId: null,
      now,
      replayStore: new MemoryReplayStore({ now: () => now.getTime() }),
    })
    assert.equal(identity.email, fixture.email)
  })

  it('nhs metadata keeps both signing certificates of the rollover', () => {
    const config = idpConfigFromMetadata(fixtureText('nhs-2015-two-certs.federation-metadata.xml'), {
      now: new Date('2015-06-01T00:00:00Z'),
    })
    assert.equal(config.entityId, 'https://sts.windows.net/03159e92-72c6-4b23-a64a-af50e790adbf/')
    assert.equal(config.ssoUrl, 'https://login.windows.net/03159e92-72c6-4b23-a64a-af50e790adbf/saml2')
    assert.equal(config.certificates.length, 2)
    assert.notEqual(config.certificates[0]?.fingerprintSha256, config.certificates[1]?.fingerprintSha256)
    for (const certificate of config.certificates) {
      assert.equal(certificate.subject, 'CN=accounts.accesscontrol.windows.net')
    }
  })

  it('nhs metadata after one certificate expired keeps the other and warns about the skipped one', () => {
    const config = idpConfigFromMetadata(fixtureText('nhs-2015-two-certs.federation-metadata.xml'), {
      now: new Date('2016-03-01T00:00:00Z'),
    })
    assert.equal(config.certificates.length, 1)
    assert.equal(config.certificates[0]?.notAfter, '2016-10-27T00:00:00.000Z')
    assert.ok(config.warnings.some((warning) => warning.includes('2016-01-01')))
  })
})
