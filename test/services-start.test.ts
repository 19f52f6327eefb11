import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, it } from 'node:test'
import { postgresUrl, sparePort, temporaryDirectory } from '@gatehouse/testing'
import { createIsolatedDatabase } from './support/isolated-database.ts'
import { runToExit, startProcess } from './support/processes.ts'
import { unusedRedisDatabaseUrl } from './support/redis-database.ts'

// The services with a database of their own, which start on PGlite or Postgres.
const services = ['auth', 'invitation'] as const
// Their consumers of `auth-events` and `invitation-events` must not take other tests' events (an
// auth on PGlite could not apply another test's accepted invitation).
const redisUrl = await unusedRedisDatabaseUrl()

describe('services start and stop', () => {
  for (const service of services) {
    it(`${service} runs on embedded PGlite when DATABASE_URL is unset, and stops on SIGTERM within 10 s`, async (t) => {
      const dataDir = temporaryDirectory()
      t.after(dataDir.remove)
      const running = await startProcess(service, {
        PORT: String(await sparePort()),
        DATA_DIR: dataDir.path,
        REDIS_URL: redisUrl,
        DATABASE_URL: '',
      })
      const ready = await fetch(`${running.url}/readyz`)
      assert.equal(ready.status, 200)
      const stopped = await running.stop('SIGTERM')
      assert.equal(stopped.code, 0, running.output())
      assert.ok(stopped.milliseconds < 10_000, `took ${stopped.milliseconds} ms`)
    })

    it(`${service} runs on Postgres when DATABASE_URL is set, and stops on Ctrl-C`, async (t) => {
      const dataDir = temporaryDirectory()
      t.after(dataDir.remove)
      const running = await startProcess(service, {
        PORT: String(await sparePort()),
        DATA_DIR: dataDir.path,
        REDIS_URL: redisUrl,
        DATABASE_URL: postgresUrl,
      })
      assert.equal((await fetch(`${running.url}/healthz`)).status, 200)
      const stopped = await running.stop('SIGINT')
      assert.equal(stopped.code, 0, running.output())
    })

    it(`${service} with ROLE=migrate applies its migrations to a fresh database and exits 0`, async (t) => {
      const database = await createIsolatedDatabase()
      t.after(database.drop)
      const result = await runToExit(service, { ROLE: 'migrate', DATABASE_URL: database.url, REDIS_URL: redisUrl })
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout.trim(), `${service}: database migrations applied`)
      const [journal] = await database.sql<
        { applied: number }[]
      >`select count(*)::int as applied from ${database.sql(service)}.__migrations`
      assert.ok((journal?.applied ?? 0) > 0)
    })

    it(`${service} refuses to start on a bad setting with one line naming the variable`, async () => {
      const result = await runToExit(service, { PORT: 'eighty', DATABASE_URL: '' })
      assert.equal(result.code, 1)
      assert.equal(result.stderr.trim(), 'configuration error: PORT: "eighty" is not a port number (0-65535)')
    })
  }

  it('refuses to start in production without a cookie secret', async () => {
    const result = await runToExit('auth', {
      NODE_ENV: 'production',
      DATABASE_URL: postgresUrl,
      COOKIE_SECRET: '',
      INTERNAL_TOKEN: '',
    })
    assert.equal(result.code, 1)
    assert.match(result.stderr, /COOKIE_SECRET: is required when NODE_ENV=production/)
  })

  it('every service stops within 1 s of SIGTERM when idle, though a browser holds a socket that sent nothing', async (t) => {
    const dataDir = temporaryDirectory()
    t.after(dataDir.remove)
    // At info, each program logs how long its stop took.
    const shared = { DATA_DIR: dataDir.path, REDIS_URL: redisUrl, DATABASE_URL: postgresUrl, LOG_LEVEL: 'info' }
    const ports = { auth: await sparePort(), invitation: await sparePort(), web: await sparePort() }
    const start = {
      auth: () => startProcess('auth', { ...shared, PORT: String(ports.auth) }),
      invitation: () =>
        startProcess('invitation', {
          ...shared,
          PORT: String(ports.invitation),
          AUTH_URL: `http://127.0.0.1:${ports.auth}`,
        }),
      web: () =>
        startProcess('web', {
          LOG_LEVEL: 'info',
          PORT: String(ports.web),
          AUTH_URL: `http://127.0.0.1:${ports.auth}`,
          INVITATION_URL: `http://127.0.0.1:${ports.invitation}`,
        }),
    }
    const running = { auth: await start.auth(), invitation: await start.invitation(), web: await start.web() }
    // Stopped one by one (web first: it needs the others), each while a preconnected socket (as
    // Chromium opens them) waits on it. What is timed is the stop as the program logs it, from the
    // signal to everything closed: the exit after it (the kernel freeing the process's memory)
    // took 200–700 ms more beside the heaviest test files. A process that waits on something (the
    // idle socket, a timer) takes seconds every time; one starved of CPU by the files running
    // beside this one may miss 1 s once, so a slow stop is tried again, up to three times.
    for (const name of ['web', 'invitation', 'auth'] as const) {
      const took: number[] = []
      for (let attempt = 0; attempt < 3 && !took.some((milliseconds) => milliseconds < 1_000); attempt++) {
        const service = attempt === 0 ? running[name] : await start[name]()
        const preconnected = connect(ports[name], '127.0.0.1')
        preconnected.on('error', () => {})
        await new Promise((resolve) => preconnected.once('connect', resolve))
        const stopped = await service.stop('SIGTERM')
        preconnected.destroy()
        assert.equal(stopped.code, 0, service.output())
        // Well before the 10 s drain limit, which would have ended it with exit code 1.
        assert.ok(stopped.milliseconds < 5_000, `${name} exited ${stopped.milliseconds} ms after SIGTERM`)
        took.push(loggedStop(service.output()))
      }
      t.diagnostic(`${name} stopped in ${took.join(', ')} ms`)
      assert.ok(
        took.some((milliseconds) => milliseconds < 1_000),
        `${name} took ${took.join(', ')} ms`,
      )
    }
  })

  // Production secrets are given, so only the variable under test is missing.
  const productionEnv = {
    NODE_ENV: 'production',
    COOKIE_SECRET: 'c'.repeat(32),
    INTERNAL_TOKEN: 't'.repeat(32),
    SP_KEY_SECRET: 's'.repeat(32),
    DATABASE_URL: postgresUrl,
    SMTP_URL: 'smtp://127.0.0.1:2525',
  }
  for (const service of services) {
    it(`${service} refuses to start in production without DATABASE_URL instead of on an embedded database`, async () => {
      const result = await runToExit(service, { ...productionEnv, DATABASE_URL: '' })
      assert.equal(result.code, 1)
      assert.equal(result.stderr.trim(), 'configuration error: DATABASE_URL: is required when NODE_ENV=production')
    })
  }

  it('invitation refuses to start in production without SMTP_URL instead of writing mails to files', async () => {
    const result = await runToExit('invitation', { ...productionEnv, SMTP_URL: '' })
    assert.equal(result.code, 1)
    assert.equal(result.stderr.trim(), 'configuration error: SMTP_URL: is required when NODE_ENV=production')
  })
})

/** The milliseconds of the `stopped` line a program logs at the end of its stop. */
function loggedStop(output: string): number {
  for (const line of output.split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    const entry = JSON.parse(line) as { msg?: string; milliseconds?: number }
    if (entry.msg === 'stopped' && typeof entry.milliseconds === 'number') return entry.milliseconds
  }
  throw new Error(`no "stopped" line in:\n${output}`)
}
