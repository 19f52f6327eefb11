// A Postgres database of one test's own on the shared server. Every invitation process relays
// *every* unpublished row of the `invitation.outbox` table it connects to: on the shared test
// database, another engineer's invitation process would take a test's events (say, the ones
// waiting out a Redis outage) and publish them to its own Redis, where the test's auth never
// sees them. A database per test keeps the events of its processes to themselves.
import { postgresUrl, uniqueSuffix } from '@gatehouse/testing'
import postgres from 'postgres'

export interface IsolatedDatabase {
  /** For DATABASE_URL of the services the test starts; they create their schemas in it. */
  url: string
  /** A postgres.js client on it, for reading what the services wrote. */
  sql: postgres.Sql
  /** Closes the client and drops the database, ending the sessions still connected to it. */
  drop(): Promise<void>
}

export async function createIsolatedDatabase(base: string = postgresUrl): Promise<IsolatedDatabase> {
  const name = `gatehouse_test_${uniqueSuffix()}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end({ timeout: 5 })
  }
  const url = new URL(base)
  url.pathname = `/${name}`
  const sql = postgres(url.href, { max: 4, onnotice: () => {} })
  return {
    url: url.href,
    sql,
    async drop() {
      await sql.end({ timeout: 5 })
      const dropper = postgres(base, { max: 1, onnotice: () => {} })
      try {
        // WITH (FORCE) (Postgres 13+): a service process that outlived its test must not keep the database.
        await dropper.unsafe(`drop database if exists "${name}" with (force)`)
      } finally {
        await dropper.end({ timeout: 5 })
      }
    },
  }
}
