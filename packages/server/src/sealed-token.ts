// A mailed link's token crosses from auth (which issues it) to the invitation service (which mails
// it) inside an event on the `auth-events` stream, which every internal subscriber reads and Redis
// keeps. So the token is sealed: AES-256-GCM under a key derived with HKDF-SHA256 (RFC 5869) from
// INTERNAL_TOKEN, which only the services that call each other hold, with the link's id as the
// additional authenticated data (a sealed token copied into another event does not open).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const scheme = 'v1'

export type TokenSeal = ReturnType<typeof createTokenSeal>

export function createTokenSeal(internalToken: string) {
  const key = Buffer.from(hkdfSync('sha256', internalToken, '', 'gatehouse mailed link token sealing v1', 32))
  return {
    seal(token: string, linkId: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(linkId))
      const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
      return [scheme, ...[iv, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url'))].join('.')
    },

    /** The token, or null when this value was not sealed for `linkId` with this INTERNAL_TOKEN. */
    open(sealedToken: string, linkId: string): string | null {
      const [version, iv, sealed, tag] = sealedToken.split('.')
      if (version !== scheme || !iv || !sealed || !tag) return null
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
          .setAAD(Buffer.from(linkId))
          .setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        return null
      }
    },
  }
}
