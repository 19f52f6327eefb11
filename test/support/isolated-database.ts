// A Postgres database of one test's own on the shared server. Every auth and invitation process
// relays *every* unpublished row of the outbox table it connects to: on the shared test database,
// another test file's (or engineer's) process would take a test's events (say, the ones waiting
// out a Redis outage) and publish them to its own Redis, where the test's consumers never see
// them. A database per test keeps the events of its processes to themselves.
//
// A migrated one is a copy of a template that has every migration of auth and invitation
// (CREATE DATABASE … TEMPLATE, a file copy inside Postgres): cheaper than each service applying
// its migrations to an empty database at every start.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '@gatehouse/db'
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

const root = new URL('../../', import.meta.url).pathname
/** Each service's schema and drizzle-kit's migrations for it. */
const migrationsFolders = {
  auth: join(root, 'services/auth/drizzle'),
  invitation: join(root, 'services/invitation/drizzle'),
}

/**
 * An empty database by default (for tests of the migrations themselves); with `migrated`, one
 * that has every migration of auth and invitation already, as a deployment's migrate job leaves it.
 */
export async function createIsolatedDatabase(options: { migrated?: boolean } = {}): Promise<IsolatedDatabase> {
  const name = `gatehouse_test_${uniqueSuffix()}`
  const template = options.migrated ? await migratedTemplate() : undefined
  await withAdmin((admin) => admin.unsafe(`create database "${name}"${template ? ` template "${template}"` : ''}`))
  const url = databaseUrl(name)
  const sql = postgres(url, { max: 4, onnotice: () => {} })
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 })
      // WITH (FORCE) (Postgres 13+): a service process that outlived its test must not keep the database.
      await withAdmin((admin) => admin.unsafe(`drop database if exists "${name}" with (force)`))
    },
  }
}

let fileDatabase: Promise<IsolatedDatabase> | undefined
/**
 * One migrated database for the whole test file (its process), created on first use and dropped
 * when the file's tests are done: for harnesses whose apps of one file share a database, as
 * replicas do, but must not share it with other files.
 */
export function testFileDatabase(): Promise<IsolatedDatabase> {
  if (!fileDatabase) {
    const created = createIsolatedDatabase({ migrated: true })
    fileDatabase = created
    // beforeExit comes once the file's tests are done and its event loop is empty; the drop's own
    // work brings it back once more, when the listener is gone.
    process.once('beforeExit', () => {
      void created.then((database) => database.drop())
    })
  }
  return fileDatabase
}

function databaseUrl(name: string): string {
  const url = new URL(postgresUrl)
  url.pathname = `/${name}`
  return url.href
}

async function withAdmin<T>(work: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} })
  try {
    return await work(admin)
  } finally {
    await admin.end({ timeout: 5 })
  }
}

let template: Promise<string> | undefined
/**
 * The name of a database with every migration applied, made once per set of migrations and
 * kept on the server: its name holds a hash of the migration files, so a changed migration gets a
 * template of its own and other checkouts' templates are left alone.
 */
function migratedTemplate(): Promise<string> {
  template ??= makeMigratedTemplate()
  return template
}

async function makeMigratedTemplate(): Promise<string> {
  const hash = createHash('sha256')
  for (const [service, folder] of Object.entries(migrationsFolders)) {
    for (const file of readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort()) {
      if (!file.endsWith('.sql') && !file.endsWith('.json')) continue
      hash
        .update(`${service}/${file}\0`)
        .update(readFileSync(join(folder, file)))
        .update('\0')
    }
  }
  const name = `gatehouse_template_${hash.digest('hex').slice(0, 16)}`
  const [existing] = await withAdmin((admin) => admin`select 1 from pg_database where datname = ${name}`)
  if (existing) return name
  // Built under another name and renamed when complete, so no file ever copies a half-migrated
  // template; of two files building it at once, the second to finish drops its own.
  const building = `${name}_${uniqueSuffix()}`
  await withAdmin((admin) => admin.unsafe(`create database "${building}"`))
  for (const [service, migrationsFolder] of Object.entries(migrationsFolders)) {
    const database = await connect({ url: databaseUrl(building), dataDir: '', service, migrationsFolder, schema: {} })
    await database.close()
  }
  await withAdmin(async (admin) => {
    try {
      await admin.unsafe(`alter database "${building}" rename to "${name}"`)
    } catch (error) {
      if ((error as { code?: string }).code !== '42P04') throw error
      await admin.unsafe(`drop database "${building}" with (force)`)
    }
  })
  return name
}
