// SP signing keys at rest. The private key is sealed with AES-256-GCM under a key derived from
// SP_KEY_SECRET with HKDF-SHA256 (RFC 5869; the info string keeps it apart from any other use of
// that secret), and the connection and key ids are the additional authenticated data: a sealed key
// copied into another connection's row, or another key's slot, does not open. A database dump or
// backup alone therefore yields no key that could sign requests in a workspace's name.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto'
import { generateSpSigningKey } from '@gatehouse/saml'
import type { StoredSpSigningKey } from '../db/schema.ts'

const SEALED = 'aes-256-gcm.v1'
// Development without SP_KEY_SECRET only (config.ts refuses to start production without it).
const UNSEALED = 'unsealed'

export type SpKeyVault = ReturnType<typeof createSpKeyVault>

export function createSpKeyVault(secret: string | null) {
  const key =
    secret === null ? null : Buffer.from(hkdfSync('sha256', secret, '', 'gatehouse sp signing key sealing v1', 32))
  const context = (connectionId: string, keyId: string) => Buffer.from(`${connectionId}/${keyId}`)

  function seal(privateKeyPem: string, connectionId: string, keyId: string): string {
    if (key === null) return `${UNSEALED}.${Buffer.from(privateKeyPem).toString('base64url')}`
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(context(connectionId, keyId))
    const sealed = Buffer.concat([cipher.update(privateKeyPem, 'utf8'), cipher.final()])
    return [SEALED, iv, sealed, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.')
  }

  return {
    /** A new key pair for `connectionId`, its private key sealed for storage. */
    async create(connectionId: string, now = new Date()): Promise<StoredSpSigningKey> {
      const { privateKeyPem, certificatePem } = await generateSpSigningKey({ now })
      const id = randomUUID()
      return {
        id,
        certificatePem,
        sealedPrivateKey: seal(privateKeyPem, connectionId, id),
        createdAt: now.toISOString(),
      }
    },

    /** The PEM private key of a stored key; throws when it cannot be opened with this secret. */
    open(stored: StoredSpSigningKey, connectionId: string): string {
      const [scheme, ...parts] = stored.sealedPrivateKey.split('.')
      if (scheme === UNSEALED) return Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')
      const [version, iv, sealed, tag] = parts
      if (`${scheme}.${version}` !== SEALED || !iv || !sealed || !tag) {
        throw new Error(`SP signing key ${stored.id} is stored in an unknown form`)
      }
      if (key === null) throw new Error(`SP signing key ${stored.id} is sealed, and SP_KEY_SECRET is not set`)
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
          .setAAD(context(connectionId, stored.id))
          .setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        throw new Error(`SP signing key ${stored.id} does not open with this SP_KEY_SECRET (or was moved)`)
      }
    },
  }
}
