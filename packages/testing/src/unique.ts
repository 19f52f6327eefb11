// Names and addresses unique to one test, so that tests can run together against one database
// and one Redis without meeting each other's rows or rate limits.
import { randomBytes } from 'node:crypto'

export function uniqueSuffix(): string {
  return randomBytes(6).toString('hex')
}

export function uniqueEmail(name = 'user'): string {
  return `${name}-${uniqueSuffix()}@example.test`
}

/** A client address of its own, so per-IP rate limits of one test never throttle another. */
export function uniqueIp(): string {
  const bytes = randomBytes(3)
  return `10.${bytes[0]}.${bytes[1]}.${bytes[2]}`
}
