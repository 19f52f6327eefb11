// Certificates as admins paste them from Entra ("Certificate (Base64)", a `.cer` file): armour or
// not, CRLF, spaces anywhere. Each is parsed once into a KeyObject that verification reuses
// (parsing a PEM per verify costs ~120 µs against ~16 µs for a cached KeyObject).
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'

export interface IdpCertificate {
  pem: string
  /** SHA-256 of the DER, `AB:CD:…` upper case, as Entra's portal shows thumbprints. */
  fingerprintSha256: string
  subject: string
  notBefore: string
  notAfter: string
}

export class CertificateProblem extends Error {}

const EXPIRY_WARNING_DAYS = 30
const MINIMUM_RSA_BITS = 2048
const DAY_MS = 86_400_000

const ARMOUR = /-----(BEGIN|END) ([A-Z0-9 ]+)-----/g

/** Parses one certificate in any of the shapes admins paste; throws CertificateProblem with the precise reason. */
export function parseCertificateText(text: string): X509Certificate {
  const labels = [...text.matchAll(ARMOUR)].map((match) => match[2] ?? '')
  if (labels.some((label) => label.includes('PRIVATE KEY'))) {
    throw new CertificateProblem(
      'This is a private key, not a certificate. Paste the "Certificate (Base64)" downloaded from Entra, and treat this key as leaked.',
    )
  }
  if (labels.some((label) => label.includes('CERTIFICATE REQUEST'))) {
    throw new CertificateProblem('This is a certificate signing request (CSR), not a certificate.')
  }
  if (labels.some((label) => label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY')) {
    throw new CertificateProblem(
      'This is a bare public key; a certificate is needed ("Certificate (Base64)" in Entra).',
    )
  }
  const certificateBlocks = labels.filter((label) => label === 'CERTIFICATE').length / 2
  if (certificateBlocks > 1) {
    throw new CertificateProblem('Paste exactly one certificate (this text holds several).')
  }
  const base64 = text.replace(ARMOUR, '').replace(/\s+/g, '')
  if (base64.length === 0) throw new CertificateProblem('The certificate is empty.')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new CertificateProblem('This is not a Base64 certificate. Paste the "Certificate (Base64)" from Entra.')
  }
  const der = Buffer.from(base64, 'base64')
  try {
    return new X509Certificate(der)
  } catch {
    if (looksLikePrivateKey(der)) {
      throw new CertificateProblem('This is a private key, not a certificate. Treat this key as leaked.')
    }
    throw new CertificateProblem('This Base64 text does not decode to an X.509 certificate.')
  }
}

function looksLikePrivateKey(der: Buffer): boolean {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type })
      return true
    } catch {}
  }
  return false
}

function isoDate(openSslDate: string): string {
  return new Date(openSslDate).toISOString()
}

/**
 * Checks what the signature check will rely on: an RSA (≥ 2048 bits) or EC key, and a validity
 * window containing `now`. Returns the certificate's description and any warning for the admin.
 */
export function describeCertificate(
  certificate: X509Certificate,
  now: Date,
): { certificate: IdpCertificate; warnings: string[] } {
  const publicKey = certificate.publicKey
  const keyType = publicKey.asymmetricKeyType
  if (keyType !== 'rsa' && keyType !== 'ec') {
    throw new CertificateProblem(
      `The certificate's key type is ${keyType ?? 'unknown'}; only RSA and EC keys are supported.`,
    )
  }
  const modulusLength = publicKey.asymmetricKeyDetails?.modulusLength
  if (keyType === 'rsa' && (modulusLength ?? 0) < MINIMUM_RSA_BITS) {
    throw new CertificateProblem(
      `The certificate's RSA key has ${modulusLength} bits; at least ${MINIMUM_RSA_BITS} are required.`,
    )
  }
  const description: IdpCertificate = {
    pem: certificate.toString(),
    fingerprintSha256: certificate.fingerprint256.toUpperCase(),
    subject: certificate.subject.split('\n').join(', '),
    notBefore: isoDate(certificate.validFrom),
    notAfter: isoDate(certificate.validTo),
  }
  const notAfter = new Date(description.notAfter)
  const day = description.notAfter.slice(0, 10)
  if (notAfter.getTime() <= now.getTime()) {
    throw new CertificateProblem(
      `The certificate expired on ${day} (${description.notAfter}). Download the current one from Entra.`,
    )
  }
  const warnings: string[] = []
  if (notAfter.getTime() - now.getTime() < EXPIRY_WARNING_DAYS * DAY_MS) {
    warnings.push(
      `The certificate ${description.fingerprintSha256.slice(0, 11)}… expires on ${day}: add Entra's new certificate before then.`,
    )
  }
  if (new Date(description.notBefore).getTime() > now.getTime()) {
    warnings.push(
      `The certificate ${description.fingerprintSha256.slice(0, 11)}… is not valid before ${description.notBefore}.`,
    )
  }
  return { certificate: description, warnings }
}

export interface VerificationKey {
  key: KeyObject
  keyType: 'rsa' | 'ec'
  fingerprintSha256: string
  notBefore: number
  notAfter: number
}

export function verificationKeyOf(certificate: IdpCertificate): VerificationKey {
  const x509 = new X509Certificate(certificate.pem)
  const keyType = x509.publicKey.asymmetricKeyType
  if (keyType !== 'rsa' && keyType !== 'ec') {
    throw new CertificateProblem(
      `The certificate's key type is ${keyType ?? 'unknown'}; only RSA and EC keys are supported.`,
    )
  }
  return {
    key: x509.publicKey,
    keyType,
    fingerprintSha256: certificate.fingerprintSha256,
    notBefore: new Date(isoDate(x509.validFrom)).getTime(),
    notAfter: new Date(isoDate(x509.validTo)).getTime(),
  }
}
