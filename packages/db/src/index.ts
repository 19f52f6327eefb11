import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { type SQLWrapper, sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

/** A drizzle handle, whichever engine is underneath: repos are written against this. */
export type Database<TSchema extends Record<string, unknown> = Record<string, never>> = PgDatabase<
  PgQueryResultHKT,
  TSchema
>

export interface ConnectOptions<TSchema extends Record<string, unknown>> {
  /** Postgres URL; when absent, an embedded PGlite database lives in `dataDir/<service>`. */
  url?: string | undefined
  dataDir: string
  /** The service's name, which is also its Postgres schema (`auth`, `invitation`). */
  service: string
  /** drizzle-kit's output folder for this service. */
  migrationsFolder: string
  schema: TSchema
  /** Pool size for Postgres. */
  maxConnections?: number
  /**
   * `apply` (the default): apply what is pending first. `await`: apply nothing and wait until the
   * database has every migration of `migrationsFolder` (a deployment's migrate job applies them;
   * its API and worker replicas only wait for it). PGlite, being the process's own, always applies.
   */
  migrations?: 'apply' | 'await'
  /** Called once when `await` finds migrations missing, with how many. */
  onAwaitingMigrations?: (pending: number) => void
}

export interface Connection<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>
  engine: 'postgres' | 'pglite'
  /** Resolves when the database answers a trivial query (readiness puts a time limit on it). */
  ping(): Promise<void>
  close(): Promise<void>
}

const clientOptions = {
  connect_timeout: 5,
  onnotice: () => {},
  // postgres.js 3.4.9 reads the array types on each new connection and drops that query's promise:
  // a connection lost at that moment (a failover, an outage) rejects it unhandled, which stops the
  // process (porsager/postgres#1192, #1223). Gatehouse sends and reads no Postgres arrays (drizzle
  // expands `inArray` into parameters), so the lookup buys nothing.
  fetch_types: false,
} satisfies postgres.Options<Record<string, postgres.PostgresType>>

/**
 * Connects to the service's database and applies its migrations. Each service keeps its
 * migration journal in its own schema, so services sharing one Postgres never collide.
 */
export async function connect<TSchema extends Record<string, unknown>>(
  options: ConnectOptions<TSchema>,
): Promise<Connection<TSchema>> {
  const migrationConfig = {
    migrationsFolder: options.migrationsFolder,
    migrationsSchema: options.service,
    migrationsTable: '__migrations',
  }
  if (options.url) {
    if (options.migrations === 'await')
      await awaitMigrations(options.url, migrationConfig, options.onAwaitingMigrations)
    else await migrateExclusively(options.url, options.service, migrationConfig)
    const client = postgres(options.url, {
      ...clientOptions,
      max: options.maxConnections ?? 10,
      connection: { application_name: `gatehouse-${options.service}` },
    })
    const db = drizzlePostgres(client, { schema: options.schema })
    return {
      db: db as unknown as Database<TSchema>,
      engine: 'postgres',
      ping: async () => {
        await db.execute(sql`select 1`)
      },
      close: () => client.end({ timeout: 5 }),
    }
  }
  const directory = join(options.dataDir, options.service)
  mkdirSync(directory, { recursive: true })
  const client = await PGlite.create(directory)
  const db = drizzlePglite(client, { schema: options.schema })
  await migratePglite(db, migrationConfig)
  return {
    db: db as unknown as Database<TSchema>,
    engine: 'pglite',
    ping: async () => {
      await db.execute(sql`select 1`)
    },
    close: () => client.close(),
  }
}

// Replicas starting together must not apply the same migration twice: one holds an advisory
// lock while it migrates, the others wait and then find nothing to do. A one-connection client
// keeps the lock and the migration on the same session.
async function migrateExclusively(
  url: string,
  service: string,
  migrationConfig: Parameters<typeof migratePostgres>[1],
): Promise<void> {
  const client = postgres(url, { ...clientOptions, max: 1 })
  const lockKey = `gatehouse:${service}:migrations`
  try {
    await client`select pg_advisory_lock(hashtext(${lockKey}))`
    await migratePostgres(drizzlePostgres(client), migrationConfig)
  } finally {
    await client.end({ timeout: 5 })
  }
}

/** How many of the folder's migrations the database has not applied (drizzle's own test: by creation time). */
export async function pendingMigrations(
  url: string,
  migrationConfig: { migrationsFolder: string; migrationsSchema: string; migrationsTable: string },
): Promise<number> {
  const migrations = readMigrationFiles(migrationConfig)
  const client = postgres(url, { ...clientOptions, max: 1 })
  try {
    const [journal] = await client<
      { exists: string | null }[]
    >`select to_regclass(${`${migrationConfig.migrationsSchema}.${migrationConfig.migrationsTable}`}) as exists`
    if (!journal?.exists) return migrations.length
    const [last] = await client<
      { created_at: string }[]
    >`select created_at from ${client(migrationConfig.migrationsSchema)}.${client(migrationConfig.migrationsTable)} order by created_at desc limit 1`
    const applied = Number(last?.created_at ?? 0)
    return migrations.filter((migration) => migration.folderMillis > applied).length
  } finally {
    await client.end({ timeout: 5 })
  }
}

const awaitMigrationsEveryMs = 2_000

async function awaitMigrations(
  url: string,
  migrationConfig: { migrationsFolder: string; migrationsSchema: string; migrationsTable: string },
  onAwaiting: ((pending: number) => void) | undefined,
): Promise<void> {
  let told = false
  while (true) {
    const pending = await pendingMigrations(url, migrationConfig)
    if (pending === 0) return
    if (!told) onAwaiting?.(pending)
    told = true
    await new Promise((resolve) => setTimeout(resolve, awaitMigrationsEveryMs))
  }
}

/** The rows of a raw `db.execute()` result, whichever engine ran it (postgres.js returns an array, PGlite `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}

/**
 * Runs a raw statement as a prepared one: on Postgres each connection parses and plans it once
 * and then only binds values, where `db.execute` has it parsed and planned at every call. For hot
 * statements with a fixed text (values as parameters): postgres.js keeps each distinct text
 * prepared for the connection's life. Rows as `db.execute` gives them (read with `rowsOf`).
 */
export async function executePrepared(
  // biome-ignore lint/suspicious/noExplicitAny: any service's database or transaction.
  db: Pick<Database<any>, 'execute' | '_'>,
  name: string,
  statement: SQLWrapper,
): Promise<unknown> {
  // `execute` only builds the query until awaited; its text and parameters are prepared instead.
  const query = db.execute(statement).getQuery()
  return db._.session.prepareQuery(query, undefined, name, false).execute()
}

/**
 * A hot statement composed once: its values are `sql.placeholder(name)`s, given at each run.
 * Composing a long statement with drizzle's builder costs more CPU than Postgres spends running
 * it; this composes it once per database handle and runs it prepared (see executePrepared).
 * Rows as `db.execute` gives them (read with `rowsOf`).
 */
export function preparedStatement(name: string, statement: SQLWrapper) {
  // biome-ignore lint/suspicious/noExplicitAny: any service's database or transaction.
  type Handle = Pick<Database<any>, 'execute' | '_'>
  const prepared = new WeakMap<Handle, { execute(values: Record<string, unknown>): Promise<unknown> }>()
  return (db: Handle, values: Record<string, unknown>): Promise<unknown> => {
    let query = prepared.get(db)
    if (query === undefined) {
      query = db._.session.prepareQuery(db.execute(statement).getQuery(), undefined, name, false)
      prepared.set(db, query)
    }
    return query.execute(values)
  }
}
