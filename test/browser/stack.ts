// The whole product as real processes on spare ports, for browser tests: auth, invitation, web
// (the origin the browser uses) and the dev IdP, with a fresh DATA_DIR and no SMTP (mails are
// .eml files under DATA_DIR/mail).
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SigningKeys } from '@gatehouse/dev-idp'
import { sparePort, startDnsServer, type TestDnsServer, temporaryDirectory, uniqueSuffix } from '@gatehouse/testing'
import type { ProofContext } from '../support/account-proof.ts'
import { createIsolatedDatabase } from '../support/isolated-database.ts'
import { type ProgramName, type RunningProcess, startProcess } from '../support/processes.ts'
import { unusedRedisDatabaseUrl } from '../support/redis-database.ts'

export interface Stack {
  /** The origin the browser uses (the web gateway); also PUBLIC_URL. */
  webUrl: string
  devIdpUrl: string
  dataDir: string
  /**
   * The Redis database of this stack alone: its consumers of `auth-events` and `invitation-events`
   * take only its own events (another test's owner notice would otherwise land in its mail).
   */
  redisUrl: string
  /** The DNS server auth asks for domain claims' TXT records (`DNS_SERVERS`). */
  dns: TestDnsServer
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

/** `authEnv`: settings of the stack's auth beyond the shared ones. */
export async function startStack(options: { authEnv?: Record<string, string> } = {}): Promise<Stack> {
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
  const shared = {
    DATA_DIR: dataDir.path,
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    PUBLIC_URL: webUrl,
    INTERNAL_TOKEN: internalToken,
    COOKIE_SECRET: randomBytes(32).toString('base64url'),
    SMTP_URL: '',
    TRUST_PROXY: 'loopback',
  }
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
    for (const result of results) if (result.status === 'fulfilled') started.push(result.value)
    const failure = results.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
  }
  try {
    await startAll([
      [
        'auth',
        {
          ...shared,
          PORT: String(authPort),
          DNS_SERVERS: dns.address,
          INVITATION_URL: invitationUrl,
          ...options.authEnv,
        },
      ],
      // Its own mail queue: this stack's mails are written by this stack's invitation service.
      [
        'invitation',
        { ...shared, PORT: String(invitationPort), AUTH_URL: authUrl, MAIL_QUEUE: `browser-mail-${uniqueSuffix()}` },
      ],
      ['dev-idp', devIdpEnv],
    ])
    await startAll([
      ['web', { PORT: String(webPort), PUBLIC_URL: webUrl, AUTH_URL: authUrl, INVITATION_URL: invitationUrl }],
    ])
  } catch (error) {
    await stop()
    throw error
  }
  const output = () => started.map((process) => `--- ${process.name}\n${process.output()}`).join('\n')
  return {
    webUrl,
    devIdpUrl,
    dataDir: dataDir.path,
    redisUrl,
    dns,
    output,
    invitationLink: (email, timeoutMs = 20_000) =>
      readMailedLink(join(dataDir.path, 'mail'), email, timeoutMs, '/invite'),
    mailedLink: (email, page, except = []) => readMailedLink(join(dataDir.path, 'mail'), email, 20_000, page, except),
    mailContaining: (email, text) =>
      findMail(join(dataDir.path, 'mail'), email, 20_000, `an email containing “${text}”`, (message) =>
        message.includes(text) ? message : undefined,
      ),
    proof: { databaseUrl: database.url, internalToken, baseUrl: webUrl },
    endSessionLink: (email, timeoutMs = 20_000) =>
      readMailedLink(join(dataDir.path, 'mail'), email, timeoutMs, '/end-session'),
    useDevIdpSigningKeys: async (keys) => {
      const devIdp = started.find((program) => program.name === 'dev-idp')
      if (!devIdp) throw new Error('the dev IdP is not running')
      await devIdp.stop()
      started.splice(started.indexOf(devIdp), 1)
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
