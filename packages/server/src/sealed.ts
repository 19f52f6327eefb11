import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

// A secret one service hands another inside an event (an email's single-use link) passes through
// an outbox table and a Redis stream, where it must not be readable: it travels sealed with
// AES-256-GCM under a key derived from INTERNAL_TOKEN, which only the services hold.
const purpose = 'gatehouse sealed value v1'
const ivBytes = 12
const tagBytes = 16
const maximumSealedLength = 1024

function keyOf(internalToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', internalToken, '', purpose, 32))
}

/** `plaintext` sealed for the other services (base64url: IV, ciphertext, tag). */
export function sealForServices(internalToken: string, plaintext: string): string {
  const iv = randomBytes(ivBytes)
  const cipher = createCipheriv('aes-256-gcm', keyOf(internalToken), iv)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
}

/** What `sealForServices` sealed, or undefined when `sealed` is not a value sealed under this token. */
export function openSealed(internalToken: string, sealed: string): string | undefined {
  if (sealed.length > maximumSealedLength || !/^[\w-]+$/.test(sealed)) return undefined
  const bytes = Buffer.from(sealed, 'base64url')
  if (bytes.length < ivBytes + tagBytes) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(internalToken), bytes.subarray(0, ivBytes))
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes))
    return Buffer.concat([
      decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    return undefined
  }
}
