import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { connect as connectTcp, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { postgresUrl, temporaryDirectory, uniqueSuffix, unreachablePostgresUrl, withPort } from '@gatehouse/testing'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { connect, executePrepared, rowsOf } from '../src/index.ts'
import { copyInitializedPglite } from './initialized-pglite.ts'

// A one-migration folder in drizzle-kit's layout, creating a table in the given schema.
function migrationsFor(schema: string, directory: string): string {
  const folder = join(directory, 'drizzle')
  mkdirSync(join(folder, 'meta'), { recursive: true })
  writeFileSync(
    join(folder, '0000_init.sql'),
    `CREATE SCHEMA IF NOT EXISTS "${schema}";\n--> statement-breakpoint\nCREATE TABLE "${schema}"."things" ("id" serial PRIMARY KEY, "name" text NOT NULL);\n`,
  )
  writeFileSync(
    join(folder, 'meta', '_journal.json'),
    JSON.stringify({
      version: '7',
      dialect: 'postgresql',
      entries: [{ idx: 0, version: '7', when: 1_700_000_000_000, tag: '0000_init', breakpoints: true }],
    }),
  )
  return folder
}

describe('connect', () => {
  const scratch = temporaryDirectory()
  after(() => scratch.remove())

  it('runs on embedded PGlite under DATA_DIR/<service> when no URL is given, migrations applied', async () => {
    const service = `svc_${uniqueSuffix()}`
    const migrationsFolder = migrationsFor(service, scratch.path)
    const first = await connect({ dataDir: scratch.path, service, migrationsFolder, schema: {} })
    assert.equal(first.engine, 'pglite')
    await first.db.execute(sql.raw(`insert into "${service}"."things" (name) values ('kept')`))
    await first.close()

    // Reopening the same directory keeps the data and applies nothing twice.
    const second = await connect({ dataDir: scratch.path, service, migrationsFolder, schema: {} })
    // PGlite's raw result carries its rows in `.rows` (postgres.js returns the array itself).
    const rows = (await second.db.execute(sql.raw(`select name from "${service}"."things"`))) as unknown as {
      rows: { name: string }[]
    }
    assert.deepEqual(
      rows.rows.map((row) => row.name),
      ['kept'],
    )
    await second.ping()
    await second.close()
  })

  it('runs on Postgres when a URL is given, the journal kept in the service schema', async () => {
    const service = `svc_${uniqueSuffix()}`
    const migrationsFolder = migrationsFor(service, scratch.path)
    const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} })
    try {
      // Two replicas starting together: both succeed and the migration is applied once.
      const [one, two] = await Promise.all([
        connect({ url: postgresUrl, dataDir: scratch.path, service, migrationsFolder, schema: {} }),
        connect({ url: postgresUrl, dataDir: scratch.path, service, migrationsFolder, schema: {} }),
      ])
      assert.equal(one.engine, 'postgres')
      await one.ping()
      const journal = await admin.unsafe(`select count(*)::int as n from "${service}"."__migrations"`)
      assert.equal(journal[0]?.n, 1)
      const tables = await admin`select table_name from information_schema.tables where table_schema = ${service}`
      assert.deepEqual(tables.map((row) => row.table_name).sort(), ['__migrations', 'things'])
      await Promise.all([one.close(), two.close()])
    } finally {
      await admin.unsafe(`drop schema if exists "${service}" cascade`)
      await admin.end()
    }
  })

  it('fails with the connection error when Postgres does not answer', async () => {
    const migrationsFolder = migrationsFor('unused', scratch.path)
    await assert.rejects(
      connect({ url: unreachablePostgresUrl, dataDir: scratch.path, service: 'unused', migrationsFolder, schema: {} }),
      /ECONNREFUSED|connect/,
    )
  })

  it('prepares what executePrepared runs, on Postgres (parsed and planned once per connection) and on PGlite', async () => {
    const service = `svc_${uniqueSuffix()}`
    const migrationsFolder = migrationsFor(service, scratch.path)
    // The statement finds itself among the connection's prepared statements by the marker in its text.
    const probe = sql`select name from pg_prepared_statements where statement like ${'%prepared-probe%'} /* prepared-probe */`
    const postgresDb = await connect({
      url: postgresUrl,
      dataDir: scratch.path,
      service,
      migrationsFolder,
      schema: {},
      maxConnections: 1,
    })
    try {
      assert.equal(rowsOf(await postgresDb.db.execute(probe)).length, 0, 'db.execute runs an unnamed statement')
      assert.equal(rowsOf(await executePrepared(postgresDb.db, 'probe', probe)).length, 1)
      assert.equal(rowsOf(await executePrepared(postgresDb.db, 'probe', probe)).length, 1, 'prepared once, reused')
    } finally {
      await postgresDb.close()
    }
    // Initialized already: the first start of PGlite is the first test's.
    await copyInitializedPglite(join(scratch.path, service))
    const pgliteDb = await connect({ dataDir: scratch.path, service, migrationsFolder, schema: {} })
    try {
      const rows = rowsOf<{ n: number }>(
        await executePrepared(pgliteDb.db, 'things', sql.raw(`select count(*)::int as n from "${service}"."things"`)),
      )
      assert.deepEqual(rows, [{ n: 0 }])
    } finally {
      await pgliteDb.close()
    }
  })

  it('with migrations: await, applies nothing and waits until another connect has applied them', async (t) => {
    const service = `svc_${uniqueSuffix()}`
    const migrationsFolder = migrationsFor(service, scratch.path)
    const options = { url: postgresUrl, dataDir: scratch.path, service, migrationsFolder, schema: {} }
    const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} })
    t.after(async () => {
      await admin.unsafe(`drop schema if exists "${service}" cascade`)
      await admin.end()
    })
    let told: (pending: number) => void = () => {}
    const awaiting = new Promise<number>((resolve) => {
      told = resolve
    })
    const replica = connect({ ...options, migrations: 'await', onAwaitingMigrations: told })
    assert.equal(await awaiting, 1)
    const [before] = await admin`select to_regclass(${`${service}.things`}) as things`
    assert.equal(before?.things, null, 'the waiting replica created the table')

    const migrator = await connect(options)
    await migrator.close()
    const connected = await replica
    await connected.db.execute(sql.raw(`insert into "${service}"."things" (name) values ('after the migration')`))
    await connected.close()
  })

  it('survives a connection lost just after its start-up: only the query on it fails', async (t) => {
    const service = `svc_${uniqueSuffix()}`
    const migrationsFolder = migrationsFor(service, scratch.path)
    const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} })
    t.after(async () => {
      await admin.unsafe(`drop schema if exists "${service}" cascade`)
      await admin.end()
    })
    // A Postgres that goes away (a failover) the moment the service's pool sends its first
    // statement on a new connection: postgres.js once sent its own array-type lookup there and
    // dropped that promise, so the loss surfaced as an unhandled rejection (a process exit).
    const target = new URL(postgresUrl)
    const sockets = new Set<Socket>()
    const proxy = createServer((client) => {
      const upstream = connectTcp(Number(target.port || 5432), target.hostname)
      let pool = false
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('error', () => socket.destroy())
      }
      upstream.pipe(client)
      client.on('data', (chunk: Buffer) => {
        // The start-up message names the application; Parse (P) or Query (Q) is a first statement.
        pool ||= chunk.includes(`gatehouse-${service}`)
        if (pool && (chunk[0] === 0x50 || chunk[0] === 0x51)) {
          proxy.close()
          for (const socket of sockets) socket.destroy()
          return
        }
        upstream.write(chunk)
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    t.after(() => {
      proxy.close()
      for (const socket of sockets) socket.destroy()
    })
    const unhandled: unknown[] = []
    const recordUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', recordUnhandled)
    t.after(() => process.off('unhandledRejection', recordUnhandled))

    const address = proxy.address()
    assert.ok(address && typeof address === 'object')
    const database = await connect({
      url: withPort(postgresUrl, address.port),
      dataDir: scratch.path,
      service,
      migrationsFolder,
      schema: {},
    })
    t.after(() => database.close().catch(() => {}))
    const failure = await database.ping().then(
      () => undefined,
      (error: unknown) => error,
    )
    // The statement on the lost connection fails with the connection's own error (drizzle's
    // error about the query carries it as its cause).
    assert.ok(failure instanceof Error)
    assert.match(
      String((failure.cause as { code?: unknown } | undefined)?.code),
      /^(ECONNREFUSED|ECONNRESET|CONNECTION_CLOSED|CONNECTION_DESTROYED)$/,
    )
    // Unhandled rejections are reported once the microtasks have run.
    await nextTurn()
    await nextTurn()
    assert.deepEqual(unhandled, [])
  })
})
