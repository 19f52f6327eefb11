// The product as real processes on spare ports, for the tests that cross process boundaries
// (browser, end-to-end, interop): auth and invitation, and unless asked otherwise the web gateway
// (the origin a browser uses) and the dev IdP, with a database, a Redis database and a DATA_DIR of
// the stack's own. Mail goes to an SMTP sink of the stack's own when asked, or else to .eml files
// under DATA_DIR/mail. Fault tests ask for what they break: a Redis server of the stack's own,
// proxies they cut, programs they kill and start again.
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SigningKeys } from '@gatehouse/dev-idp'
import {
  cuttableProxy,
  type RedisProcess,
  sparePort,
  startDnsServer,
  startRedisProcess,
  type TestDnsServer,
  temporaryDirectory,
  uniqueSuffix,
  withPort,
} from '@gatehouse/testing'
import type { ProofContext } from './account-proof.ts'
import { createIsolatedDatabase, type IsolatedDatabase } from './isolated-database.ts'
import { type ProgramName, type RunningProcess, runToExit, startProcess } from './processes.ts'
import { unusedRedisDatabaseUrl } from './redis-database.ts'
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts'

export type CuttableProxy = Awaited<ReturnType<typeof cuttableProxy>>

export interface StackOptions {
  /**
   * The web gateway in front of auth and invitation (default true), which then believe its
   * X-Forwarded-For (TRUST_PROXY=loopback). Without it, tests talk to auth and invitation directly.
   */
  web?: boolean
  /** The dev IdP as a program of its own (default true); tests that drive one in their own process leave it out. */
  devIdp?: boolean
  /** Mail goes to an SMTP sink of the stack's own (`sink`); by default there is no SMTP_URL and mails are .eml files. */
  smtpSink?: boolean
  /**
   * `database` (the default): a numbered database of the shared Redis that no one else uses.
   * `process`: a Redis server of the stack's own (`redisProcess`), which a test may stop and start.
   */
  redis?: 'database' | 'process'
  /** Programs reach Postgres and Redis through proxies a test can cut and restore (`proxies`). */
  throughProxies?: boolean
  /**
   * Auth and invitation each run as an API process (ROLE=api) and a worker process (`workers`,
   * ROLE=worker), after their migrate jobs (ROLE=migrate), as a deployment runs them. By default
   * each is one process that does both (ROLE=all).
   */
  separateWorkers?: boolean
  /** Settings of every program the stack starts but the dev IdP (LOG_LEVEL, GATEWAY_SECRET…). */
  env?: Record<string, string>
  /** Settings of auth alone. */
  authEnv?: Record<string, string>
  /** Settings of invitation alone (and of those `startInvitation` adds). */
  invitationEnv?: Record<string, string>
}

export interface Stack {
  /**
   * PUBLIC_URL: the origin the browser uses, served by the web gateway when the stack starts it
   * (mails link there either way).
   */
  webUrl: string
  /** Served when the stack starts the dev IdP. */
  devIdpUrl: string
  dataDir: string
  /**
   * The Redis database of this stack alone: its consumers of `auth-events` and `invitation-events`
   * take only its own events (another test's owner notice would otherwise land in its mail).
   */
  redisUrl: string
  /** The DNS server auth asks for domain claims' TXT records (`DNS_SERVERS`). */
  dns: TestDnsServer
  /** Its database, whose `sql` reads what the programs wrote. */
  database: IsolatedDatabase
  /** With `smtpSink`: every mail the stack's programs sent (throws otherwise). */
  readonly sink: SmtpSink
  /** With `redis: 'process'`: the Redis server of the stack's own (throws otherwise). */
  readonly redisProcess: RedisProcess
  /** With `throughProxies`: what stands between the programs and Postgres, and Redis (throws otherwise). */
  readonly proxies: { postgres: CuttableProxy; redis: CuttableProxy }
  /**
   * The running program of that name serving requests (the first started, for invitation); throws
   * when the stack has none.
   */
  program: (name: ProgramName) => RunningProcess
  /** Every program running now: with `separateWorkers`, the API processes and then the workers. */
  programs: () => RunningProcess[]
  /** With `separateWorkers`: the processes of auth and invitation that run only the workers. */
  workers: RunningProcess[]
  /**
   * Starts the program again with the same settings on the same port (stopping it first unless it
   * exited, as after a kill); `program(name)` is the new process from then on.
   */
  restart: (name: ProgramName) => Promise<RunningProcess>
  /**
   * One more invitation process of this stack, with `env` beyond the stack's settings (e.g. a
   * short INVITATION_TTL_SECONDS) and a mail queue of its own; stopped with the stack.
   */
  startInvitation: (env: Record<string, string>) => Promise<RunningProcess>
  /**
   * What each process printed, stopped and replaced ones included, for failure messages: all of
   * it, or the last `lastChars` characters of each.
   */
  output: (lastChars?: number) => string
  /** The invitation link of the newest .eml sent to `email`, waiting up to `timeoutMs` for it. */
  invitationLink: (email: string, timeoutMs?: number) => Promise<string>
  /** The link to `page` (`/confirm`, `/reset`) of an .eml sent to `email` that is not among `except`. */
  mailedLink: (email: string, page: '/confirm' | '/reset', except?: string[]) => Promise<string>
  /** The text of an .eml sent to `email` that contains `text` (a subject, say), waiting up to 20 s for it. */
  mailContaining: (email: string, text: string) => Promise<string>
  /** What proving an account's address needs (test/support/account-proof.ts). */
  proof: ProofContext
  /** The end-session link of the newest .eml sent to `email` (a first sign-in through an IdP). */
  endSessionLink: (email: string, timeoutMs?: number) => Promise<string>
  /**
   * Restarts the dev IdP signing with `keys`, as Entra signs with the certificate made active
   * (the applications registered on it are kept).
   */
  useDevIdpSigningKeys: (keys: SigningKeys) => Promise<void>
  stop: () => Promise<void>
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const { web = true, devIdp = true } = options
  const dataDir = temporaryDirectory()
  const [webPort, authPort, invitationPort, devIdpPort] = [
    await sparePort(),
    await sparePort(),
    await sparePort(),
    await sparePort(),
  ]
  const webUrl = `http://127.0.0.1:${webPort}`
  const authUrl = `http://127.0.0.1:${authPort}`
  const invitationUrl = `http://127.0.0.1:${invitationPort}`
  const devIdpUrl = `http://127.0.0.1:${devIdpPort}`
  const internalToken = randomBytes(32).toString('base64url')
  /** Every program started, stopped and replaced ones included (their output tells what they did). */
  const everStarted: RunningProcess[] = []
  const started: RunningProcess[] = []
  const workers: RunningProcess[] = []
  const settingsOf = new Map<RunningProcess, Record<string, string>>()
  const parts: {
    database?: IsolatedDatabase
    redisProcess?: RedisProcess
    sink?: SmtpSink
    dns?: TestDnsServer
    proxies?: { postgres: CuttableProxy; redis: CuttableProxy }
  } = {}
  const stop = async () => {
    await Promise.allSettled(started.map((program) => program.stop()))
    await Promise.allSettled([parts.proxies?.postgres.cut(), parts.proxies?.redis.cut()])
    await Promise.allSettled([parts.redisProcess?.stop(), parts.sink?.close(), parts.dns?.close()])
    await parts.database?.drop()
    dataDir.remove()
  }
  // Starts programs together, keeping hold of each one that came up so a failure stops them all.
  const startAll = async (programs: [ProgramName, Record<string, string>][]) => {
    const results = await Promise.allSettled(programs.map(([name, env]) => startProcess(name, env, startTimeoutMs)))
    const running = results.flatMap((result, index) => {
      if (result.status === 'rejected') return []
      settingsOf.set(result.value, programs[index]?.[1] ?? {})
      return [result.value]
    })
    started.push(...running)
    everStarted.push(...running)
    const failure = results.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
    return running
  }
  const program = (name: ProgramName) => {
    const running = started.find((candidate) => candidate.name === name && !workers.includes(candidate))
    if (!running) throw new Error(`this stack runs no ${name}`)
    return running
  }
  const restart = async (name: ProgramName) => {
    const running = program(name)
    await running.stop()
    const [restarted] = (await startAll([[name, settingsOf.get(running) ?? {}]])) as [RunningProcess]
    // In the place of the one it replaces, so `program(name)` finds it first again.
    started.splice(started.indexOf(restarted), 1)
    started.splice(started.indexOf(running), 1, restarted)
    return restarted
  }
  let services: Record<string, string> = {}
  // Each invitation its own mail queue (shared with its worker process): it sends the mails it wrote itself.
  const invitationEnv = (port: number, env: Record<string, string> = {}) => ({
    ...services,
    PORT: String(port),
    AUTH_URL: authUrl,
    MAIL_QUEUE: `stack-mail-${uniqueSuffix()}`,
    ...options.invitationEnv,
    ...env,
  })
  const devIdpEnv = { PORT: String(devIdpPort), DATA_DIR: dataDir.path, DEV_IDP_BASE_URL: devIdpUrl }
  try {
    // A database of the stack's own: every auth and invitation process relays whatever unpublished
    // outbox rows its database holds, so on a shared one another test's processes would publish
    // this stack's events to their own Redis (isolated-database.ts).
    const [database, redisUrl, sink, dns] = await Promise.all([
      createIsolatedDatabase({ migrated: true }),
      options.redis === 'process'
        ? startRedisProcess().then((redisProcess) => {
            parts.redisProcess = redisProcess
            return redisProcess.url
          })
        : unusedRedisDatabaseUrl(),
      options.smtpSink ? startSmtpSink() : undefined,
      startDnsServer(),
    ])
    Object.assign(parts, { database, sink, dns })
    if (options.throughProxies) {
      const [postgres, redis] = await Promise.all([
        cuttableProxy(hostAndPort(database.url)),
        cuttableProxy(hostAndPort(redisUrl)),
      ])
      parts.proxies = { postgres, redis }
    }
    services = {
      DATA_DIR: dataDir.path,
      DATABASE_URL: parts.proxies ? withPort(database.url, parts.proxies.postgres.port) : database.url,
      REDIS_URL: parts.proxies ? withPort(redisUrl, parts.proxies.redis.port) : redisUrl,
      PUBLIC_URL: webUrl,
      INTERNAL_TOKEN: internalToken,
      COOKIE_SECRET: randomBytes(32).toString('base64url'),
      SMTP_URL: sink?.url ?? '',
      ...(web ? { TRUST_PROXY: 'loopback' } : {}),
      ...options.env,
    }
    const authEnv = {
      ...services,
      PORT: String(authPort),
      DNS_SERVERS: dns.address,
      INVITATION_URL: invitationUrl,
      ...options.authEnv,
    }
    const invitationApiEnv = invitationEnv(invitationPort)
    // API and worker processes wait for the migrations a deployment's migrate job applies.
    if (options.separateWorkers) {
      await Promise.all(
        (['auth', 'invitation'] as const).map(async (name) => {
          const migrated = await runToExit(name, { ...services, ROLE: 'migrate' })
          if (migrated.code !== 0) throw new Error(`${name} migrations: ${migrated.stdout}${migrated.stderr}`)
        }),
      )
    }
    const apiRole: Record<string, string> = options.separateWorkers ? { ROLE: 'api' } : {}
    const programs: [ProgramName, Record<string, string>][] = [
      ['auth', { ...authEnv, ...apiRole }],
      ['invitation', { ...invitationApiEnv, ...apiRole }],
    ]
    if (devIdp) programs.push(['dev-idp', devIdpEnv])
    const workerEnv = async (env: Record<string, string>) => ({
      ...env,
      ROLE: 'worker',
      PORT: String(await sparePort()),
    })
    const workerPrograms: [ProgramName, Record<string, string>][] = options.separateWorkers
      ? [
          ['auth', await workerEnv(authEnv)],
          ['invitation', await workerEnv(invitationApiEnv)],
        ]
      : []
    // In one start, so the API processes come first in `programs()` and the workers after.
    const running = await startAll([...programs, ...workerPrograms])
    workers.push(...running.slice(programs.length))
    if (web) {
      await startAll([
        [
          'web',
          {
            PORT: String(webPort),
            PUBLIC_URL: webUrl,
            AUTH_URL: authUrl,
            INVITATION_URL: invitationUrl,
            ...options.env,
          },
        ],
      ])
    }
  } catch (error) {
    await stop()
    throw error
  }
  const database = parts.database as IsolatedDatabase
  const output = (lastChars?: number) =>
    everStarted
      .map((process) => `--- ${process.name}\n${lastChars ? process.output().slice(-lastChars) : process.output()}`)
      .join('\n')
  const part = <T>(value: T | undefined, option: string): T => {
    if (value === undefined) throw new Error(`this stack was started without ${option}`)
    return value
  }
  return {
    webUrl,
    devIdpUrl,
    dataDir: dataDir.path,
    redisUrl: services.REDIS_URL as string,
    dns: parts.dns as TestDnsServer,
    database,
    get sink() {
      return part(parts.sink, 'smtpSink')
    },
    get redisProcess() {
      return part(parts.redisProcess, "redis: 'process'")
    },
    get proxies() {
      return part(parts.proxies, 'throughProxies')
    },
    program,
    programs: () => [...started],
    workers,
    restart,
    startInvitation: async (env) => {
      const [invitation] = await startAll([['invitation', invitationEnv(await sparePort(), env)]])
      return invitation as RunningProcess
    },
    output,
    invitationLink: (email, timeoutMs = 20_000) =>
      readMailedLink(join(dataDir.path, 'mail'), email, timeoutMs, '/invite'),
    mailedLink: (email, page, except = []) => readMailedLink(join(dataDir.path, 'mail'), email, 20_000, page, except),
    mailContaining: (email, text) =>
      findMail(join(dataDir.path, 'mail'), email, 20_000, `an email containing “${text}”`, (message) =>
        message.includes(text) ? message : undefined,
      ),
    // Without the gateway, /v1/auth is reached at auth itself.
    proof: { databaseUrl: database.url, internalToken, baseUrl: web ? webUrl : authUrl },
    endSessionLink: (email, timeoutMs = 20_000) =>
      readMailedLink(join(dataDir.path, 'mail'), email, timeoutMs, '/end-session'),
    useDevIdpSigningKeys: async (keys) => {
      await program('dev-idp').stop()
      // Where the dev IdP keeps its keys (loadOrCreateSigningKeys), read again when it starts.
      writeFileSync(join(dataDir.path, 'dev-idp', 'signing-key.pem'), keys.privateKeyPem, { mode: 0o600 })
      writeFileSync(join(dataDir.path, 'dev-idp', 'signing-certificate.pem'), keys.certificatePem)
      await restart('dev-idp')
    },
    stop,
  }
}

// Up to six programs start at once, on a machine that runs other test files too.
const startTimeoutMs = 120_000

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port || (parsed.protocol === 'redis:' ? 6379 : 5432)) }
}

async function readMailedLink(
  mailDirectory: string,
  email: string,
  timeoutMs: number,
  page: '/invite' | '/confirm' | '/reset' | '/end-session',
  except: string[] = [],
): Promise<string> {
  return findMail(mailDirectory, email, timeoutMs, `an email linking to ${page}`, (message) => {
    const link = new RegExp(`\\S+${page}#token=[\\w-]+`).exec(message)?.[0]
    return link && !except.includes(link) ? link : undefined
  })
}

/** What `pick` takes from the first .eml to `email` (decoded) it takes anything from, waiting up to `timeoutMs`. */
async function findMail(
  mailDirectory: string,
  email: string,
  timeoutMs: number,
  what: string,
  pick: (message: string) => string | undefined,
): Promise<string> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (existsSync(mailDirectory)) {
      for (const file of readdirSync(mailDirectory).filter((name) => name.endsWith('.eml'))) {
        const message = readFileSync(join(mailDirectory, file), 'utf8')
        if (!message.toLowerCase().includes(email.toLowerCase())) continue
        const picked = pick(decodeQuotedPrintable(message))
        if (picked !== undefined) return picked
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`no ${what} for ${email} under ${mailDirectory}`)
}

// Mail bodies may be quoted-printable (RFC 2045 §6.7): soft line breaks and =XX escapes.
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
}
