import { readFileSync } from 'node:fs'
import { hash, verify } from '@node-rs/argon2'

/** argon2id's memory (KiB) and passes. */
export interface PasswordHashCost {
  memoryCost: number
  timeCost: number
}

// OWASP Password Storage Cheat Sheet: argon2id with m=19 MiB, t=2, p=1.
export const owaspPasswordHashCost: PasswordHashCost = { memoryCost: 19_456, timeCost: 2 }

export const minimumPasswordLength = 10
export const maximumPasswordLength = 256

const commonPasswords = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean),
)

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < minimumPasswordLength) return `Use at least ${minimumPasswordLength} characters.`
  if (password.length > maximumPasswordLength) return `Use at most ${maximumPasswordLength} characters.`
  if (commonPasswords.has(password.toLowerCase())) return 'This password is too common. Choose another.'
  return null
}

/**
 * Hashes new passwords at `cost` (OWASP's unless told: tests that make hundreds of accounts pass
 * a cheaper one) and verifies stored hashes at the cost each was made with.
 */
export function createPasswordHasher(cost: PasswordHashCost = owaspPasswordHashCost) {
  // `2` is the package's const enum Algorithm.Argon2id, which isolated modules cannot import.
  const argon2Options = { algorithm: 2 as const, ...cost, parallelism: 1 }
  // Verifying against this when the email is unknown makes login take the same time either way,
  // so response time does not reveal which emails have accounts.
  const dummyHash = hash('gatehouse-timing-equalizer', argon2Options)
  return {
    hash: (password: string): Promise<string> => hash(password, argon2Options),
    async verify(passwordHash: string | null, password: string): Promise<boolean> {
      const target = passwordHash ?? (await dummyHash)
      const matches = await verify(target, password).catch(() => false)
      return matches && passwordHash !== null
    },
  }
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>
