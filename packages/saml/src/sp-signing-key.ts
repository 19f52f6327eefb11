// The SP's own key, for IdPs that want signed AuthnRequests (saml-metadata 2.4.4
// WantAuthnRequestsSigned): one RSA key and a self-signed certificate per connection. The
// certificate is only a carrier for the public key in the SP metadata (saml-metadata 2.4.1.1:
// KeyDescriptor use="signing"); IdPs trust it because the metadata came from us, not because of
// who issued it.
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata'
import { createPrivateKey, KeyObject, randomBytes, sign, webcrypto, X509Certificate } from 'node:crypto'
import * as x509 from '@peculiar/x509'

export interface SpSigningKeyPair {
  privateKeyPem: string
  certificatePem: string
}

/** saml-bindings 3.4.4.1 SigAlg (xmldsig-more): RSA with SHA-256. */
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'

// 3072 bits: 128-bit security, which NIST SP 800-57 keeps acceptable past 2030 (2048 bits is not),
// and certificates made today outlive 2030.
const MODULUS_BITS = 3072
const VALIDITY_YEARS = 10
const HOUR_MS = 60 * 60 * 1000
type CertificateKeys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys']

/** A fresh RSA key and its self-signed certificate (async: generation runs off the event loop). */
export async function generateSpSigningKey(options: { now?: Date } = {}): Promise<SpSigningKeyPair> {
  const now = options.now ?? new Date()
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(
    { ...algorithm, modulusLength: MODULUS_BITS, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as CertificateKeys
  // RFC 5280 4.1.2.2: a positive serial of at most 20 octets.
  const serial = randomBytes(16)
  serial[0] = (serial[0] ?? 0) & 0x7f
  const notAfter = new Date(now)
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS)
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: ['Gatehouse SAML request signing'] }],
      // An hour back, so an IdP whose clock runs behind does not see a certificate from the future.
      notBefore: new Date(now.getTime() - HOUR_MS),
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      // RFC 5280 4.1: an extensions field must not be empty, and this key only signs.
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  )
  return {
    privateKeyPem: KeyObject.from(keys.privateKey as webcrypto.CryptoKey)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    certificatePem: certificate.toString('pem'),
  }
}

/** What an admin is shown of an SP certificate, in the form IdP certificates are shown. */
export function spCertificateFacts(certificatePem: string): {
  fingerprintSha256: string
  notBefore: string
  notAfter: string
} {
  const certificate = new X509Certificate(certificatePem)
  return {
    fingerprintSha256: certificate.fingerprint256.toUpperCase(),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
  }
}

/** A PEM private key as a KeyObject, parsed once per connection rather than per request. */
export function signingKeyOf(privateKeyPem: string): KeyObject {
  const key = createPrivateKey(privateKeyPem)
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('The SP signing key must be an RSA key')
  return key
}

/**
 * saml-bindings 3.4.4.1: the detached signature of an HTTP-Redirect message covers the octets
 * `SAMLRequest=…[&RelayState=…]&SigAlg=…` exactly as they appear in the URL (each value already
 * URL-encoded), and travels beside them as `Signature`. `samlQuery` is that query without SigAlg.
 */
export function signRedirectQuery(samlQuery: string, key: KeyObject): string {
  const signed = `${samlQuery}&SigAlg=${encodeURIComponent(RSA_SHA256)}`
  const signature = sign('sha256', Buffer.from(signed, 'utf8'), key).toString('base64')
  return `${signed}&Signature=${encodeURIComponent(signature)}`
}
