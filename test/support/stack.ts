// The product as real processes on spare ports, for the tests that cross process boundaries
// (browser, end-to-end, interop): auth and invitation, and unless asked otherwise the web gateway
// (the origin a browser uses) and the dev IdP, with a database, a Redis database and a DATA_DIR of
// the stack's own. Mail goes to an SMTP server a test gives, or else to .eml files under DATA_DIR/mail.
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SigningKeys } from '@gatehouse/dev-idp'
import { sparePort, startDnsServer, type TestDnsServer, temporaryDirectory, uniqueSuffix } from '@gatehouse/testing'
import type { ProofContext } from './account-proof.ts'
import { createIsolatedDatabase } from './isolated-database.ts'
import { type ProgramName, type RunningProcess, startProcess } from './processes.ts'
import { unusedRedisDatabaseUrl } from './redis-database.ts'

export interface StackOptions {
  /**
   * The web gateway in front of auth and invitation (default true), which then believe its
   * X-Forwarded-For (TRUST_PROXY=loopback). Without it, tests talk to auth and invitation directly.
   */
  web?: boolean
  /** The dev IdP as a program of its own (default true); tests that drive one in their own process leave it out. */
  devIdp?: boolean
  /** SMTP_URL: where invitation sends mail (a test's SMTP sink); by default none, mails are .eml files. */
  smtpUrl?: string
  /** Settings of every program the stack starts but the dev IdP (LOG_LEVEL, GATEWAY_SECRET…). */
  env?: Record<string, string>
  /** Settings of auth alone. */
  authEnv?: Record<string, string>
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
  /** The running program of that name (the first started, for invitation); throws when the stack has none. */
  program: (name: ProgramName) => RunningProcess
  /**
   * One more invitation process of this stack, with `env` beyond the stack's settings (e.g. a
   * short INVITATION_TTL_SECONDS) and a mail queue of its own; stopped with the stack.
   */
  startInvitation: (env: Record<string, string>) => Promise<RunningProcess>
  /** Everything the processes printed, for failure messages. */
  output: () => string
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
  // A database of the stack's own: every auth and invitation process relays whatever unpublished
  // outbox rows its database holds, so on a shared one another test's processes would publish
  // this stack's events to their own Redis (isolated-database.ts).
  const database = await createIsolatedDatabase({ migrated: true })
  const redisUrl = await unusedRedisDatabaseUrl()
  const dns = await startDnsServer()
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
  const services = {
    DATA_DIR: dataDir.path,
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    PUBLIC_URL: webUrl,
    INTERNAL_TOKEN: internalToken,
    COOKIE_SECRET: randomBytes(32).toString('base64url'),
    SMTP_URL: options.smtpUrl ?? '',
    ...(web ? { TRUST_PROXY: 'loopback' } : {}),
    ...options.env,
  }
  // Each its own mail queue: an invitation process sends the mails it wrote itself.
  const invitationEnv = (port: number, env: Record<string, string> = {}) => ({
    ...services,
    PORT: String(port),
    AUTH_URL: authUrl,
    MAIL_QUEUE: `stack-mail-${uniqueSuffix()}`,
    ...env,
  })
  const devIdpEnv = { PORT: String(devIdpPort), DATA_DIR: dataDir.path, DEV_IDP_BASE_URL: devIdpUrl }
  const started: RunningProcess[] = []
  const stop = async () => {
    await Promise.all(started.map((program) => program.stop()))
    await dns.close()
    await database.drop()
    dataDir.remove()
  }
  // Starts programs together, keeping hold of each one that came up so a failure stops them all.
  const startAll = async (programs: [ProgramName, Record<string, string>][]) => {
    const results = await Promise.allSettled(programs.map(([name, env]) => startProcess(name, env)))
    const running = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
    started.push(...running)
    const failure = results.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
    return running
  }
  try {
    const programs: [ProgramName, Record<string, string>][] = [
      [
        'auth',
        {
          ...services,
          PORT: String(authPort),
          DNS_SERVERS: dns.address,
          INVITATION_URL: invitationUrl,
          ...options.authEnv,
        },
      ],
      ['invitation', invitationEnv(invitationPort)],
    ]
    if (devIdp) programs.push(['dev-idp', devIdpEnv])
    await startAll(programs)
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
  const output = () => started.map((process) => `--- ${process.name}\n${process.output()}`).join('\n')
  const program = (name: ProgramName) => {
    const running = started.find((candidate) => candidate.name === name)
    if (!running) throw new Error(`this stack runs no ${name}`)
    return running
  }
  return {
    webUrl,
    devIdpUrl,
    dataDir: dataDir.path,
    redisUrl,
    dns,
    program,
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
      const running = program('dev-idp')
      await running.stop()
      started.splice(started.indexOf(running), 1)
      // Where the dev IdP keeps its keys (loadOrCreateSigningKeys), read again when it starts.
      writeFileSync(join(dataDir.path, 'dev-idp', 'signing-key.pem'), keys.privateKeyPem, { mode: 0o600 })
      writeFileSync(join(dataDir.path, 'dev-idp', 'signing-certificate.pem'), keys.certificatePem)
      await startAll([['dev-idp', devIdpEnv]])
    },
    stop,
  }
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
