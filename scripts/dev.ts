// `pnpm dev`: the whole product on one machine. Starts Redis when none answers (and
// redis-server is installed), then every service on its default port — auth, invitation, the web
// app (pages and gateway) and the dev IdP standing in for Microsoft Entra — each log line tagged
// with its service, then prints the URL to open and a walkthrough; Ctrl-C stops all of it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { answers, claimRedis, readPortBase, sideBySideHint } from './dev-instance.ts'

const root = resolve(new URL('..', import.meta.url).pathname)
const dataDir = resolve(process.env.DATA_DIR || join(root, '.data'))
const redisUrl = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379')

// auth and invitation see clients through the web gateway on this machine, so they believe its
// X-Forwarded-For; web is the edge itself and believes none (with loopback trusted there, any
// local client could name itself anyone to every per-network limit). Every local program shares
// loopback with the gateway, so the gateway also shows a secret (GATEWAY_SECRET) with each request
// it forwards: a local client talking to auth or invitation directly is seen as itself.
const behindGateway = process.env.TRUST_PROXY || 'loopback'
const services = [
  { name: 'auth', entry: 'services/auth/src/server.ts', port: 3001, trustProxy: behindGateway },
  { name: 'invitation', entry: 'services/invitation/src/server.ts', port: 3002, trustProxy: behindGateway },
  { name: 'web', entry: 'services/web/src/server.ts', port: 3000, trustProxy: '' },
  { name: 'dev-idp', entry: 'packages/dev-idp/src/server.ts', port: 3003, trustProxy: '' },
]
// DEV_PORT_BASE moves the four ports together, for a second instance beside the first.
let portBase: number
try {
  portBase = readPortBase(process.env)
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
const portOf = (service: (typeof services)[number]) => service.port - 3000 + portBase
const publicUrl = process.env.PUBLIC_URL || `http://localhost:${portBase}`
const devIdpUrl = process.env.DEV_IDP_BASE_URL || `http://localhost:${portBase + 3}`
const authDocsUrl = `http://localhost:${portBase + 1}/docs`
const invitationDocsUrl = `http://localhost:${portBase + 2}/docs`

const shared = {
  DATA_DIR: dataDir,
  REDIS_URL: redisUrl.href,
  INTERNAL_TOKEN: process.env.INTERNAL_TOKEN || randomBytes(32).toString('base64url'),
  GATEWAY_SECRET: process.env.GATEWAY_SECRET || randomBytes(32).toString('base64url'),
}

const children: ChildProcess[] = []
let redisServer: ChildProcess | undefined
let releaseRedis: (() => Promise<void>) | undefined
const width = Math.max(...services.map((service) => service.name.length), 'redis'.length)

function say(source: string, line: string) {
  process.stdout.write(`${source.padEnd(width)} | ${line}\n`)
}

// Fastify logs each request twice (received, completed); show one line per request instead, so
// the lines a person looks for (the invitation link, a warning) are not lost among asset fetches.
const requestsInFlight = new Map<string, string>()

// Service logs are pino JSON; show them as one readable line each (undefined: nothing to show).
function formatLogLine(source: string, line: string): string | undefined {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line)
  } catch {
    return line
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.msg !== 'string') return line
  // Each service's own address (127.0.0.1:<port>) is not the one to open: the origin guard
  // accepts forms only from PUBLIC_URL, which the walkthrough prints.
  if (entry.msg.startsWith('Server listening at ')) return undefined
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
    responseTime,
    ...rest
  } = entry as Record<string, unknown> & { req?: { method?: string; url?: string }; res?: { statusCode?: number } }
  const levelName = ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' } as const)[
    level as 10 | 20 | 30 | 40 | 50 | 60
  ]
  const clock = new Date(time as number).toISOString().slice(11, 19)
  const prefix = levelName === 'info' ? clock : `${clock} ${levelName ?? String(level)}`
  const requestKey = `${source} ${String(reqId)}`
  if (req && msg === 'incoming request') {
    if (requestsInFlight.size > 1000) requestsInFlight.clear()
    requestsInFlight.set(requestKey, `${req.method} ${req.url}`)
    return undefined
  }
  if (res && msg === 'request completed') {
    const request = requestsInFlight.get(requestKey) ?? 'request'
    requestsInFlight.delete(requestKey)
    const took = typeof responseTime === 'number' ? ` (${Math.round(responseTime)} ms)` : ''
    return `${prefix} ${request} -> ${res.statusCode}${took}`
  }
  // The development mail mode logs each invitation's link: make it the line people can spot.
  if (typeof rest.link === 'string' && typeof rest.to === 'string') {
    const file = typeof rest.emailId === 'string' ? ` (saved as ${join(dataDir, 'mail', `${rest.emailId}.eml`)})` : ''
    return `${prefix} invitation for ${rest.to}: ${rest.link}${file}`
  }
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''
  return `${prefix} ${msg}${extra}`
}

async function ensureRedis() {
  const port = Number(redisUrl.port || 6379)
  if (await answers(port, redisUrl.hostname)) {
    say('redis', `using the Redis that answers at ${redisUrl.href} (REDIS_URL)`)
    return
  }
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
    detached: true,
  })
  pipe('redis', redis)
  redisServer = redis
  for (let attempt = 0; attempt < 50 && !(await answers(port, redisUrl.hostname)); attempt++) {
    await new Promise((wait) => setTimeout(wait, 100))
  }
}

function pipe(name: string, child: ChildProcess) {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue
    createInterface({ input: stream }).on('line', (line) => {
      const shown = formatLogLine(name, line)
      if (shown !== undefined) say(name, shown)
    })
  }
}

// Should this script die without stopping them (killed outright, e.g. by tsx's signal relay, which
// SIGKILLs a child that does not acknowledge a signal within 60 ms), the services, in process groups
// of their own, would keep running and holding their ports: each stops itself once orphaned.
const stopWhenOrphaned =
  "data:text/javascript,const parent=process.ppid;setInterval(()=>{if(process.ppid!==parent)process.kill(process.pid,'SIGTERM')},1000).unref()"

function startService(service: (typeof services)[number]) {
  const child = spawn(process.execPath, ['--import', stopWhenOrphaned, '--import', 'tsx', service.entry], {
    cwd: root,
    env: {
      ...process.env,
      ...shared,
      PUBLIC_URL: publicUrl,
      DEV_IDP_BASE_URL: devIdpUrl,
      PORT: String(portOf(service)),
      TRUST_PROXY: service.trustProxy,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: Ctrl-C reaches only this script, which then sends each service
    // one SIGTERM. Had the terminal's SIGINT reached them too, that SIGTERM would be their second
    // signal, on which they exit at once without closing their embedded database.
    detached: true,
  })
  pipe(service.name, child)
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(service.name, `exited (${signal ?? code}); stopping everything`)
      stop(1)
    }
  })
  children.push(child)
}

let stopping = false
const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null
const exited = (child: ChildProcess) => (running(child) ? new Promise((done) => child.once('exit', done)) : undefined)

function stop(exitCode: number) {
  if (stopping) return
  stopping = true
  say('dev', 'stopping every service…')
  // The services close within 10 s; anything still running after 12 s is killed, with what it started.
  setTimeout(() => {
    for (const child of [...children, redisServer]) {
      if (child?.pid !== undefined && running(child)) {
        say('dev', `${child.spawnargs.join(' ')} did not stop in time: killing it`)
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          // Gone in the meantime.
        }
      }
    }
    process.exit(1)
  }, 12_000).unref()
  for (const child of children) if (running(child)) child.kill('SIGTERM')
  // Redis goes last: the services flush their queues and streams to it as they close.
  Promise.all(children.map(exited))
    .then(() => releaseRedis?.())
    .then(() => {
      if (redisServer && running(redisServer)) redisServer.kill('SIGTERM')
      return redisServer && exited(redisServer)
    })
    .then(() => {
      say('dev', 'stopped')
      process.exit(exitCode)
    })
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))
// Closing the terminal signals only the foreground group, which the services are not in.
process.on('SIGHUP', () => stop(0))

// Listening means ready: each service opens its port only after its start-up (migrations
// included). A TCP probe keeps HTTP request lines out of the log.
async function waitUntilListening(service: (typeof services)[number]): Promise<boolean> {
  for (let attempt = 0; attempt < 600 && !stopping; attempt++) {
    if (await answers(portOf(service), '127.0.0.1')) return true
    await new Promise((wait) => setTimeout(wait, 200))
  }
  return false
}

function printWalkthrough(startedIn: number) {
  const mailDir = join(dataDir, 'mail')
  const lines = [
    '',
    `Gatehouse is running (ready in ${Math.round(startedIn / 1000)} s). Open ${publicUrl}`,
    '',
    `  1. Create an account at ${publicUrl}/signup, then create a workspace. (Its confirmation link,`,
    `     needed before this account may join others' workspaces or use SSO, is in an .eml under ${mailDir}.)`,
    '  2. In the workspace, click "SSO settings", then "Turn on SSO".',
    `  3. Open the dev IdP at ${devIdpUrl} (it plays Microsoft Entra). Paste the SSO page's`,
    '     Identifier and Reply URL into its Basic SAML Configuration and Save. Copy its Login URL,',
    '     Microsoft Entra Identifier and Certificate (Base64) into the SSO page (or upload its',
    '     downloaded .cer) and Save: the status turns Active.',
    '  4. Back in the workspace, invite another address (e.g. bob@example.test). Its link is printed',
    `     here, on a line "invitation | … invitation for <address>: ${publicUrl}/invite#token=<token>",`,
    `     and the email is saved under ${mailDir}. Open the link in a private window and`,
    '     create the account with a password ("Create account and join"): the link proves the address.',
    '  5. In that window, sign out, open the SSO page\'s "Sign-in link for your members" and sign',
    '     in as that address at the dev IdP: you land signed in to the workspace. ("Sign in with',
    '     SSO" on the login page needs the email\'s domain verified by DNS: README, Email domains.)',
    '',
    `API docs: ${authDocsUrl} (auth), ${invitationDocsUrl} (invitation). Ctrl-C stops everything.`,
  ]
  for (const line of lines) say('dev', line)
}

const startedAt = Date.now()
// A second instance on the same ports or Redis database stops here, before anything starts.
const taken = []
for (const service of services) {
  if (await answers(portOf(service), '127.0.0.1')) taken.push(`${portOf(service)} (${service.name})`)
}
if (taken.length > 0) {
  say('dev', `port ${taken.join(', ')} already in use (another pnpm dev?): nothing started.`)
  say('dev', sideBySideHint(portBase, redisUrl, true))
  process.exit(1)
}
await ensureRedis()
const claim = await claimRedis(redisUrl, dataDir).catch((error: Error) => {
  say('redis', error.message)
  process.exit(1)
})
if ('heldBy' in claim) {
  say(
    'dev',
    `${redisUrl.href} is used by another pnpm dev (pid ${claim.heldBy.pid}, data in ${claim.heldBy.dataDir}); ` +
      "two on one Redis database take each other's jobs and events: nothing started.",
  )
  say('dev', sideBySideHint(portBase, redisUrl, false))
  process.exit(1)
}
releaseRedis = claim.release
say('dev', `data in ${dataDir}; database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PGlite'}`)
say(
  'dev',
  `starting ${services.map((service) => `${service.name} (:${portOf(service)})`).join(', ')}; ` +
    'the first start creates the databases and takes longest',
)
for (const service of services) startService(service)
const readiness = await Promise.all(services.map(waitUntilListening))
if (!stopping) {
  if (readiness.every(Boolean)) printWalkthrough(Date.now() - startedAt)
  else
    say(
      'dev',
      `not ready after 2 minutes: ${services
        .filter((_, index) => !readiness[index])
        .map((service) => service.name)
        .join(', ')}`,
    )
}
