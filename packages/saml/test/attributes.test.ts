import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { createDevIdp, type DevIdp, generateSigningKeys, type SamlAttribute } from '@gatehouse/dev-idp'
import {
  createSamlConnection,
  idpConfigFromValues,
  MemoryReplayStore,
  SamlError,
  type SamlIdentity,
  serviceProviderUrls,
} from '../src/index.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_attributes')
const URI_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri'
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'
const email = 'ada@example.com'

let idp: DevIdp
before(async () => {
  idp = createDevIdp({ keys: await generateSigningKeys() })
})

function validate(
  attributes: SamlAttribute[],
  options: { emailFromAttribute?: boolean; nameId?: string; nameIdFormat?: string } = {},
): Promise<SamlIdentity> {
  const connection = createSamlConnection({
    sp,
    idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }),
    allowIdpInitiated: true,
    ...(options.emailFromAttribute === undefined ? {} : { emailFromAttribute: options.emailFromAttribute }),
  })
  const user = {
    email,
    ...(options.nameId === undefined ? {} : { nameId: options.nameId }),
    ...(options.nameIdFormat === undefined ? {} : { nameIdFormat: options.nameIdFormat }),
  }
  return connection.validateResponse({
    samlResponse: idp.responseBase64({ sp, user, attributes }),
    expectedRequestId: null,
    replayStore: new MemoryReplayStore(),
  })
}

const nameForms: Array<{ form: string; attributes: SamlAttribute[] }> = [
  {
    form: 'X.500/LDAP profile (urn:oid, NameFormat uri, saml-profiles 8.2)',
    attributes: [
      { name: 'urn:oid:2.5.4.42', nameFormat: URI_FORMAT, friendlyName: 'givenName', values: ['Ada'] },
      { name: 'urn:oid:2.5.4.4', nameFormat: URI_FORMAT, friendlyName: 'sn', values: ['Lovelace'] },
    ],
  },
  {
    form: 'MACE-Dir names (urn:mace:dir:attribute-def)',
    attributes: [
      { name: 'urn:mace:dir:attribute-def:givenName', values: ['Ada'] },
      { name: 'urn:mace:dir:attribute-def:sn', values: ['Lovelace'] },
    ],
  },
  {
    form: 'FriendlyName givenName / sn only',
    attributes: [
      { name: 'urn:example:first', friendlyName: 'givenName', values: ['Ada'] },
      { name: 'urn:example:last', friendlyName: 'sn', values: ['Lovelace'] },
    ],
  },
  {
    form: 'FriendlyName surname',
    attributes: [
      { name: 'urn:example:first', friendlyName: 'givenName', values: ['Ada'] },
      { name: 'urn:example:last', friendlyName: 'surname', values: ['Lovelace'] },
    ],
  },
  {
    form: "Entra's claim URIs",
    attributes: [
      { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname', values: ['Ada'] },
      { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname', values: ['Lovelace'] },
    ],
  },
]

describe('claims by their standard names', () => {
  for (const { form, attributes } of nameForms) {
    it(`first and last name are taken from the ${form}`, async () => {
      const identity = await validate(attributes)
      assert.equal(identity.firstName, 'Ada')
      assert.equal(identity.lastName, 'Lovelace')
      assert.equal(identity.email, email)
    })
  }

  it('an unrelated attribute with a name-like FriendlyName on another claim is not taken for the name', async () => {
    const identity = await validate([{ name: 'urn:oid:2.5.4.3', friendlyName: 'cn', values: ['Ada Lovelace'] }])
    assert.equal(identity.firstName, undefined)
    assert.equal(identity.lastName, undefined)
  })
})

describe('email from an attribute', () => {
  const mail = (value: string, name = 'urn:oid:0.9.2342.19200300.100.1.3'): SamlAttribute => ({
    name,
    nameFormat: URI_FORMAT,
    friendlyName: 'mail',
    values: [value],
  })
  const persistent = { nameId: 'a5c0ffee1234', nameIdFormat: PERSISTENT }

  it('is off by default: a persistent NameID is refused even when a mail attribute is present', async () => {
    await assert.rejects(validate([mail(email)], persistent), (error: unknown) => {
      assert.ok(error instanceof SamlError)
      assert.equal(error.reason, 'nameid_not_email')
      return true
    })
  })

  for (const name of [
    'urn:oid:0.9.2342.19200300.100.1.3',
    'mail',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  ]) {
    it(`when turned on, takes the email from ${name} whatever the NameID format`, async () => {
      const identity = await validate([mail('Ada@Example.COM', name)], { ...persistent, emailFromAttribute: true })
      assert.equal(identity.email, email)
      assert.equal(identity.nameId, persistent.nameId)
      assert.equal(identity.nameIdFormat, PERSISTENT)
    })
  }

  it('when turned on, ignores an email-shaped NameID and uses the attribute', async () => {
    const identity = await validate([mail('grace@example.com')], { nameId: email, emailFromAttribute: true })
    assert.equal(identity.email, 'grace@example.com')
  })

  const refusals: Array<{ what: string; attributes: SamlAttribute[]; reason: string }> = [
    { what: 'no email attribute', attributes: [], reason: 'email_attribute_missing' },
    { what: 'an email attribute that is not an address', attributes: [mail('ada')], reason: 'email_attribute_invalid' },
    { what: 'an address with markup in it', attributes: [mail('<a>@example.com')], reason: 'email_attribute_invalid' },
    {
      what: 'two attributes naming different people',
      attributes: [mail(email), mail('grace@example.com', 'mail')],
      reason: 'email_attribute_invalid',
    },
    {
      what: 'one attribute with two addresses',
      attributes: [{ name: 'mail', values: [email, 'grace@example.com'] }],
      reason: 'email_attribute_invalid',
    },
  ]
  for (const { what, attributes, reason } of refusals) {
    it(`when turned on, refuses ${what}`, async () => {
      await assert.rejects(validate(attributes, { ...persistent, emailFromAttribute: true }), (error: unknown) => {
        assert.ok(error instanceof SamlError)
        assert.equal(error.reason, reason)
        return true
      })
    })
  }
})
