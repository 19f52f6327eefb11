// `pnpm dev`: the whole product on one machine. Starts Redis when none answers (and
// redis-server is installed), then every service on its default port — auth, invitation, the web
// app (pages and gateway) and the dev IdP standing in for Microsoft Entra — each log line tagged
// with its service, then prints the URL to open and a walkthrough; Ctrl-C stops all of it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

const root = resolve(new URL('..', import.meta.url).pathname)
const dataDir = resolve(process.env.DATA_DIR || join(root, '.data'))
const redisUrl = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379')

const services = [
  { name: 'auth', entry: 'services/auth/src/server.ts', port: 3001 },
  { name: 'invitation', entry: 'services/invitation/src/server.ts', port: 3002 },
  { name: 'web', entry: 'services/web/src/server.ts', port: 3000 },
  { name: 'dev-idp', entry: 'packages/dev-idp/src/server.ts', port: 3003 },
]
const publicUrl = process.env.PUBLIC_URL || 'http://localhost:3000'
const devIdpUrl = process.env.DEV_IDP_BASE_URL || 'http://localhost:3003'

const shared = {
  DATA_DIR: dataDir,
  REDIS_URL: redisUrl.href,
  INTERNAL_TOKEN: process.env.INTERNAL_TOKEN || randomBytes(32).toString('base64url'),
  // auth and invitation see clients through the web gateway on this machine.
  TRUST_PROXY: process.env.TRUST_PROXY || 'loopback',
}

const children: ChildProcess[] = []
const width = Math.max(...services.map((service) => service.name.length), 'redis'.length)

function say(source: string, line: string) {
  process.stdout.write(`${source.padEnd(width)} | ${line}\n`)
}

// Service logs are pino JSON; show them as one readable line each.
function formatLogLine(line: string): string {
  try {
    const {
      level,
      time,
      msg,
      service: _service,
      hostname: _host,
      pid: _pid,
      reqId,
      req,
      res,
      ...rest
    } = JSON.parse(line)
    const levelName = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[level as number]
    const request = req ? ` ${req.method} ${req.url}` : res ? ` -> ${res.statusCode}` : ''
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''
    const clock = new Date(time).toISOString().slice(11, 19)
    return `${clock} ${levelName ?? level} ${msg}${request}${reqId ? ` (${String(reqId).slice(0, 8)})` : ''}${extra}`
  } catch {
    return line
  }
}

function answers(port: number, host: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, host)
    socket.once('connect', () => {
      socket.destroy()
      resolveAnswer(true)
    })
    socket.once('error', () => resolveAnswer(false))
  })
}

async function ensureRedis() {
  const port = Number(redisUrl.port || 6379)
  if (await answers(port, redisUrl.hostname)) return
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
  if (!found) {
    say('redis', `nothing answers at ${redisUrl.host} and redis-server is not installed.`)
    say(
      'redis',
      'Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.',
    )
    process.exit(1)
  }
  const redisDir = join(dataDir, 'redis')
  mkdirSync(redisDir, { recursive: true })
  say('redis', `starting redis-server on port ${port} (data in ${redisDir})`)
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  pipe('redis', redis)
  children.push(redis)
  for (let attempt = 0; attempt < 50 && !(await answers(port, redisUrl.hostname)); attempt++) {
    await new Promise((wait) => setTimeout(wait, 100))
  }
}

function pipe(name: string, child: ChildProcess) {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => say(name, formatLogLine(line)))
  }
}

function startService(service: (typeof services)[number]) {
  const child = spawn(process.execPath, ['--import', 'tsx', service.entry], {
    cwd: root,
    env: { ...process.env, ...shared, PUBLIC_URL: publicUrl, DEV_IDP_BASE_URL: devIdpUrl, PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  pipe(service.name, child)
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(service.name, `exited (${signal ?? code}); stopping everything`)
      stop()
    }
  })
  children.push(child)
}

let stopping = false
function stop() {
  if (stopping) return
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  // The services close within 10 s; anything still running after 12 s is killed.
  setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    process.exit(1)
  }, 12_000).unref()
  Promise.all(
    children.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null)),
  ).then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

// Listening means ready: each service opens its port only after its start-up (migrations
// included). A TCP probe keeps HTTP request lines out of the log.
async function waitUntilListening(service: (typeof services)[number]): Promise<boolean> {
  for (let attempt = 0; attempt < 600 && !stopping; attempt++) {
    if (await answers(service.port, '127.0.0.1')) return true
    await new Promise((wait) => setTimeout(wait, 200))
  }
  return false
}

function printWalkthrough() {
  const lines = [
    '',
    `Gatehouse is running. Open ${publicUrl}`,
    '',
    `  1. Create an account at ${publicUrl}/signup, then create a workspace.`,
    '  2. In the workspace, open "SSO settings" and click "Turn on SSO".',
    `  3. Open the dev IdP (it plays Microsoft Entra) at ${devIdpUrl}: paste the Identifier and Reply URL`,
    '     and Save; copy its Login URL, Microsoft Entra Identifier and Certificate (Base64) into the',
    '     SSO settings page (or upload the downloaded .cer) and Save: the status turns Active.',
    '  4. Invite another address (e.g. bob@example.test) from the workspace page. Its link is printed',
    `     here (invitation | ... "link") and written to ${join(dataDir, 'mail')}. Open it in a private`,
    '     window, create the account with a password and accept.',
    `  5. Sign out, click "Sign in with SSO" at ${publicUrl}/login, enter that address and sign in at`,
    '     the dev IdP: you land signed in to the workspace.',
    '',
    'auth :3001, invitation :3002 (API docs at /docs), web :3000, dev IdP :3003. Ctrl-C stops all.',
  ]
  for (const line of lines) say('dev', line)
}

await ensureRedis()
say('dev', `data in ${dataDir}; database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PGlite'}`)
for (const service of services) startService(service)
const readiness = await Promise.all(services.map(waitUntilListening))
if (!stopping) {
  if (readiness.every(Boolean)) printWalkthrough()
  else
    say(
      'dev',
      `not ready: ${services
        .filter((_, index) => !readiness[index])
        .map((service) => service.name)
        .join(', ')}`,
    )
}
