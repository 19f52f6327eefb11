// The whole product as real processes on spare ports, for browser tests: auth, invitation, web
// (the origin the browser uses) and the dev IdP, with a fresh DATA_DIR and no SMTP (mails are
// .eml files under DATA_DIR/mail).
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { postgresUrl, redisUrl, temporaryDirectory, uniqueSuffix } from '@gatehouse/testing'

const root = new URL('../../', import.meta.url).pathname

const entryPoints = {
  auth: 'services/auth/src/server.ts',
  invitation: 'services/invitation/src/server.ts',
  web: 'services/web/src/server.ts',
  'dev-idp': 'packages/dev-idp/src/server.ts',
} as const

type ProcessName = keyof typeof entryPoints

interface StartedProcess {
  name: ProcessName
  child: ChildProcess
  output: () => string
}

export interface Stack {
  /** The origin the browser uses (the web gateway); also PUBLIC_URL. */
  webUrl: string
  devIdpUrl: string
  dataDir: string
  /** Everything the processes printed, for failure messages. */
  output: () => string
  /** The invitation link of the newest .eml sent to `email`, waiting up to `timeoutMs` for it. */
  invitationLink: (email: string, timeoutMs?: number) => Promise<string>
  stop: () => Promise<void>
}

/** A port nothing listens on right now. */
export async function sparePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

function startProcess(name: ProcessName, env: Record<string, string>): StartedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entryPoints[name]], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const append = (chunk: Buffer) => {
    output += chunk
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  return { name, child, output: () => output }
}

async function waitUntilAnswering(started: StartedProcess, url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    if (started.child.exitCode !== null) {
      throw new Error(`${started.name} exited with ${started.child.exitCode}:\n${started.output()}`)
    }
    if (Date.now() > deadline) throw new Error(`${started.name} did not answer ${url}:\n${started.output()}`)
    const answered = await fetch(url).then(
      async (response) => {
        await response.body?.cancel()
        return response.status === 200
      },
      () => false,
    )
    if (answered) return
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
}

async function stopProcess(started: StartedProcess) {
  const { child } = started
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 12_000)
  await exited
  clearTimeout(timer)
}

export async function startStack(): Promise<Stack> {
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
  const shared = {
    DATA_DIR: dataDir.path,
    DATABASE_URL: postgresUrl,
    REDIS_URL: redisUrl,
    PUBLIC_URL: webUrl,
    INTERNAL_TOKEN: randomBytes(32).toString('base64url'),
    COOKIE_SECRET: randomBytes(32).toString('base64url'),
    SMTP_URL: '',
    TRUST_PROXY: 'loopback',
  }
  const started: StartedProcess[] = []
  const stop = async () => {
    await Promise.all(started.map(stopProcess))
    dataDir.remove()
  }
  try {
    const auth = startProcess('auth', { ...shared, PORT: String(authPort) })
    started.push(auth)
    // Its own mail queue: this stack's mails are written by this stack's invitation service.
    const invitation = startProcess('invitation', {
      ...shared,
      PORT: String(invitationPort),
      AUTH_URL: authUrl,
      MAIL_QUEUE: `browser-mail-${uniqueSuffix()}`,
    })
    started.push(invitation)
    const web = startProcess('web', {
      PORT: String(webPort),
      PUBLIC_URL: webUrl,
      AUTH_URL: authUrl,
      INVITATION_URL: invitationUrl,
    })
    started.push(web)
    const devIdp = startProcess('dev-idp', {
      PORT: String(devIdpPort),
      DATA_DIR: dataDir.path,
      DEV_IDP_BASE_URL: devIdpUrl,
    })
    started.push(devIdp)
    await Promise.all([
      waitUntilAnswering(auth, `${authUrl}/readyz`),
      waitUntilAnswering(invitation, `${invitationUrl}/readyz`),
      waitUntilAnswering(devIdp, `${devIdpUrl}/`),
    ])
    await waitUntilAnswering(web, `${webUrl}/readyz`)
  } catch (error) {
    await stop()
    throw error
  }
  const output = () => started.map((process) => `--- ${process.name}\n${process.output()}`).join('\n')
  return {
    webUrl,
    devIdpUrl,
    dataDir: dataDir.path,
    output,
    invitationLink: (email, timeoutMs = 20_000) => readInvitationLink(join(dataDir.path, 'mail'), email, timeoutMs),
    stop,
  }
}

async function readInvitationLink(mailDirectory: string, email: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (existsSync(mailDirectory)) {
      for (const file of readdirSync(mailDirectory).filter((name) => name.endsWith('.eml'))) {
        const message = readFileSync(join(mailDirectory, file), 'utf8')
        if (!message.toLowerCase().includes(email.toLowerCase())) continue
        const link = /\S+\/invite#token=[\w-]+/.exec(decodeQuotedPrintable(message))?.[0]
        if (link) return link
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`no invitation email for ${email} under ${mailDirectory}`)
}

// Mail bodies may be quoted-printable (RFC 2045 §6.7): soft line breaks and =XX escapes.
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
}
