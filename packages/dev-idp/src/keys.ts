// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata'
import {
  createPrivateKey,
  KeyObject,
  X509Certificate as NodeX509Certificate,
  randomBytes,
  webcrypto,
} from 'node:crypto'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { DevIdpError } from './errors.ts'

export interface SigningKeys {
  privateKeyPem: string
  certificatePem: string
}

export interface GenerateSigningKeysOptions {
  keyType?: 'rsa' | 'ec'
  commonName?: string
  notBefore?: Date
  notAfter?: Date
}

// Entra's own SAML signing certificates carry exactly this subject (see the fixtures' certificates).
export const defaultCommonName = 'Microsoft Azure Federated SSO Certificate'

type CertificateKeys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys']

const hourMs = 60 * 60 * 1000
const threeYearsMs = 3 * 365 * 24 * hourMs

const algorithms = {
  rsa: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    signing: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
  ec: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    signing: { name: 'ECDSA', hash: 'SHA-256' },
  },
} as const

/** A fresh key and a self-signed certificate for it, shaped like Entra's SAML signing certificate. */
export async function generateSigningKeys(options: GenerateSigningKeysOptions = {}): Promise<SigningKeys> {
  const keyType = options.keyType ?? 'rsa'
  const now = Date.now()
  const notBefore = options.notBefore ?? new Date(now - hourMs)
  const notAfter = options.notAfter ?? new Date(now + threeYearsMs)
  if (!(notBefore.getTime() < notAfter.getTime())) {
    throw new DevIdpError('invalid_option', 'notBefore must come before notAfter')
  }
  const algorithm = algorithms[keyType]
  const keys = (await webcrypto.subtle.generateKey(algorithm.generate, true, ['sign', 'verify'])) as CertificateKeys
  // A positive 128-bit serial, as Entra's certificates have (RFC 5280 §4.1.2.2: positive, ≤ 20 octets).
  const serial = randomBytes(16)
  serial[0] = (serial[0] ?? 0) & 0x7f
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      // The JSON form, so a common name holding commas or '=' is taken literally, not parsed as a DN.
      name: [{ CN: [options.commonName ?? defaultCommonName] }],
      notBefore,
      notAfter,
      signingAlgorithm: algorithm.signing,
      keys,
      // One extension at least: without it the generator writes an empty extensions SEQUENCE, which
      // RFC 5280 §4.1 (SIZE 1..MAX) forbids and strict certificate parsers reject.
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, false)],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  )
  const privateKeyPem = KeyObject.from(keys.privateKey as webcrypto.CryptoKey)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString()
  return { privateKeyPem, certificatePem: certificate.toString('pem') }
}

/** The key and certificate under `${dataDir}/dev-idp/`, made at the first start and kept after. */
export async function loadOrCreateSigningKeys(dataDir: string): Promise<SigningKeys> {
  const directory = join(dataDir, 'dev-idp')
  const keyPath = join(directory, 'signing-key.pem')
  const certificatePath = join(directory, 'signing-certificate.pem')
  const stored = await readStoredKeys(keyPath, certificatePath)
  if (stored !== undefined) {
    assertKeysMatch(stored, `${keyPath} and ${certificatePath}`)
    return stored
  }
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const keys = await generateSigningKeys()
  // Written beside and renamed into place, so a crash never leaves half a PEM for the next start.
  await writeFileAtomically(keyPath, keys.privateKeyPem, 0o600)
  await writeFileAtomically(certificatePath, keys.certificatePem, 0o644)
  return keys
}

async function readStoredKeys(keyPath: string, certificatePath: string): Promise<SigningKeys | undefined> {
  const [privateKeyPem, certificatePem] = await Promise.all([readIfExists(keyPath), readIfExists(certificatePath)])
  if (privateKeyPem === undefined || certificatePem === undefined) return undefined
  return { privateKeyPem, certificatePem }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

async function writeFileAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporaryPath = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temporaryPath, content, { mode, flag: 'wx' })
  await chmod(temporaryPath, mode)
  await rename(temporaryPath, path)
}

/** Throws unless the private key is the one the certificate certifies. */
export function assertKeysMatch(keys: SigningKeys, where = 'the signing keys'): void {
  let matches: boolean
  try {
    matches = new NodeX509Certificate(keys.certificatePem).checkPrivateKey(createPrivateKey(keys.privateKeyPem))
  } catch (error) {
    throw new DevIdpError('invalid_signing_keys', `${where}: unreadable key or certificate`, { cause: error })
  }
  if (!matches) throw new DevIdpError('invalid_signing_keys', `${where}: the key does not match the certificate`)
}

/** The certificate's DER as one line of base64, as it sits in X509Certificate and in Entra's UI. */
export function certificateBase64(certificatePem: string): string {
  return new NodeX509Certificate(certificatePem).raw.toString('base64')
}

/** PEM with 64-column lines and CRLF endings, like Entra's downloaded "Certificate (Base64)" .cer file. */
export function certificatePemCrlf(certificatePem: string): string {
  const lines = certificateBase64(certificatePem).match(/.{1,64}/g) ?? []
  return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----', ''].join('\r\n')
}

export function keyTypeOf(privateKeyPem: string): 'rsa' | 'ec' {
  const type = createPrivateKey(privateKeyPem).asymmetricKeyType
  if (type === 'rsa' || type === 'ec') return type
  throw new DevIdpError('invalid_signing_keys', `unsupported key type ${String(type)} (RSA or EC P-256 expected)`)
}
