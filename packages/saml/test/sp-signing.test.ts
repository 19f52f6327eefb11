import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { before, describe, it } from 'node:test'
import {
  createDevIdp,
  type DevIdp,
  generateSigningKeys,
  samlSchemaToolMissing,
  validateAgainstSamlSchema,
} from '@gatehouse/dev-idp'
import { opensslMissing, skipUnlessInstalled, verifyRedirectSignature } from '@gatehouse/testing'
import { DOMParser } from '@xmldom/xmldom'
import {
  createSamlConnection,
  generateSpSigningKey,
  idpConfigFromMetadata,
  idpConfigFromValues,
  RSA_SHA256,
  type SpSigningKeyPair,
  serviceProviderUrls,
} from '../src/index.ts'

const sp = serviceProviderUrls('https://gatehouse.example/', 'conn_signing')
const mdNs = 'urn:oasis:names:tc:SAML:2.0:metadata'
const dsNs = 'http://www.w3.org/2000/09/xmldsig#'

let idp: DevIdp
let current: SpSigningKeyPair
let previous: SpSigningKeyPair
before(async () => {
  ;[idp, current, previous] = await Promise.all([
    generateSigningKeys().then((keys) => createDevIdp({ keys })),
    generateSpSigningKey(),
    generateSpSigningKey(),
  ])
})

function connect(spSigning?: { certificates: string[]; requestSigningKey?: () => string }) {
  return createSamlConnection({
    sp,
    idp: idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem }),
    allowIdpInitiated: false,
    ...(spSigning === undefined ? {} : { spSigning }),
  })
}

/** The certificates the SP metadata publishes for signing, as their base64 content. */
function publishedSigningCertificates(metadataXml: string): string[] {
  const document = new DOMParser().parseFromString(metadataXml, 'text/xml')
  return Array.from(document.getElementsByTagNameNS(mdNs, 'KeyDescriptor'))
    .filter((descriptor) => descriptor.getAttribute('use') === 'signing')
    .flatMap((descriptor) => Array.from(descriptor.getElementsByTagNameNS(dsNs, 'X509Certificate')))
    .map((element) => (element.textContent ?? '').replace(/\s+/g, ''))
}

const base64Of = (pem: string) => new X509Certificate(pem).raw.toString('base64')
const descriptorOf = (metadataXml: string) =>
  new DOMParser().parseFromString(metadataXml, 'text/xml').getElementsByTagNameNS(mdNs, 'SPSSODescriptor')[0]

describe('SP signing key', () => {
  it('is a 3072-bit RSA key with a self-signed certificate for it, valid from now', async () => {
    const key = createPrivateKey(current.privateKeyPem)
    assert.equal(key.asymmetricKeyType, 'rsa')
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 3072)
    const certificate = new X509Certificate(current.certificatePem)
    assert.ok(certificate.checkPrivateKey(key))
    assert.ok(certificate.verify(certificate.publicKey), 'self-signed')
    assert.ok(new Date(certificate.validFrom) <= new Date() && new Date(certificate.validTo) > new Date())
    assert.notEqual(base64Of(current.certificatePem), base64Of(previous.certificatePem))
  })
})

describe('signed AuthnRequests (HTTP-Redirect, saml-bindings 3.4.4.1)', () => {
  it('are not signed, and the metadata says so, unless a signing key is given', () => {
    const saml = connect({ certificates: [current.certificatePem] })
    const url = new URL(saml.createAuthnRequest({ relayState: 'rs' }).redirectUrl)
    assert.equal(url.searchParams.get('SigAlg'), null)
    assert.equal(url.searchParams.get('Signature'), null)
    const metadata = saml.spMetadataXml()
    assert.equal(descriptorOf(metadata)?.getAttribute('AuthnRequestsSigned'), 'false')
    // The certificate is published all the same, so an IdP may be told before signing starts.
    assert.deepEqual(publishedSigningCertificates(metadata), [base64Of(current.certificatePem)])
  })

  it('verify with OpenSSL and the public key taken from the SP metadata, with and without RelayState', {
    skip: skipUnlessInstalled(opensslMissing()),
  }, () => {
    const saml = connect({ certificates: [current.certificatePem], requestSigningKey: () => current.privateKeyPem })
    const metadata = saml.spMetadataXml()
    assert.equal(descriptorOf(metadata)?.getAttribute('AuthnRequestsSigned'), 'true')
    const [published] = publishedSigningCertificates(metadata)
    assert.ok(published)
    for (const options of [{ relayState: 'r+/=&é ~' }, {}, { relayState: 'rs', loginHint: 'a@example.com' }]) {
      const { redirectUrl } = saml.createAuthnRequest(options)
      const check = verifyRedirectSignature(redirectUrl, published)
      assert.equal(check.opensslOutput, 'Verified OK', check.signedOctets)
      assert.ok(check.verified)
      assert.equal(check.sigAlg, RSA_SHA256)
      assert.equal(check.signedOctets.includes('RelayState='), 'relayState' in options)
      assert.ok(!check.signedOctets.includes('login_hint'), 'login_hint is outside the signed message')

      // One octet changed (another RelayState) and the same signature no longer verifies.
      const tampered = redirectUrl.replace(/RelayState=[^&]*/, 'RelayState=other')
      if ('relayState' in options) assert.equal(verifyRedirectSignature(tampered, published).verified, false)
    }
  })

  it('signed by the new key after a rotation, with both certificates published', {
    skip: skipUnlessInstalled(opensslMissing() ?? samlSchemaToolMissing()),
  }, () => {
    const saml = connect({
      certificates: [current.certificatePem, previous.certificatePem],
      requestSigningKey: () => current.privateKeyPem,
    })
    const metadata = saml.spMetadataXml()
    assert.deepEqual(validateAgainstSamlSchema(metadata, 'metadata'), { valid: true })
    const published = publishedSigningCertificates(metadata)
    assert.deepEqual(published, [base64Of(current.certificatePem), base64Of(previous.certificatePem)])
    const { redirectUrl } = saml.createAuthnRequest({ relayState: 'rs' })
    assert.equal(verifyRedirectSignature(redirectUrl, base64Of(current.certificatePem)).verified, true)
    assert.equal(verifyRedirectSignature(redirectUrl, base64Of(previous.certificatePem)).verified, false)
  })
})

describe("the IdP's WantAuthnRequestsSigned", () => {
  it('is read from the IdP metadata (xs:boolean), and false for the three values', () => {
    const metadata = idp.federationMetadataXml()
    assert.equal(idpConfigFromMetadata(metadata).wantAuthnRequestsSigned, false)
    for (const value of ['true', '1']) {
      const wanting = metadata.replace('<IDPSSODescriptor ', `<IDPSSODescriptor WantAuthnRequestsSigned="${value}" `)
      assert.equal(idpConfigFromMetadata(wanting).wantAuthnRequestsSigned, true, value)
    }
    const explicitNo = metadata.replace('<IDPSSODescriptor ', '<IDPSSODescriptor WantAuthnRequestsSigned="false" ')
    assert.equal(idpConfigFromMetadata(explicitNo).wantAuthnRequestsSigned, false)
    assert.equal(
      idpConfigFromValues({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem })
        .wantAuthnRequestsSigned,
      false,
    )
  })
})
