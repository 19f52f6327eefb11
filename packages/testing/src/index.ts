// What tests across the workspace share: where the real Postgres and Redis are, and names
// unique to one test so that tests can run together against one database.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The Postgres the tests use: `DATABASE_URL` (CI makes a fresh database per run), else the local one. */
export const postgresUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'

export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

/** A URL nothing listens on, for tests of what happens when a dependency is down. */
export const unreachableRedisUrl = 'redis://127.0.0.1:1'
export const unreachablePostgresUrl = 'postgres://postgres@127.0.0.1:1/test'

export function uniqueSuffix(): string {
  return randomBytes(6).toString('hex')
}

export function uniqueEmail(name = 'user'): string {
  return `${name}-${uniqueSuffix()}@example.test`
}

/** A fresh directory, removed by the returned function. */
export function temporaryDirectory(prefix = 'gatehouse-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}
