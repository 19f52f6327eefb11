// What every fault test stands on: the real auth and invitation processes, a Redis of the test's
// own that it can stop, a database of its own (see isolated-database.ts for why), and an SMTP
// sink; plus the steps of the invitation flow, done through the public HTTP routes.
import {
  cuttableProxy,
  eventually,
  type RedisProcess,
  sparePort,
  startRedisProcess,
  temporaryDirectory,
  uniqueEmail,
  withPort,
} from '@gatehouse/testing'
import { confirmAddress } from '../support/account-proof.ts'
import { type HttpResult, request, uniqueLoopbackAddress } from '../support/http-client.ts'
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolated-database.ts'
import { mapInParallel } from '../support/parallel.ts'
import { type RunningProcess, runToExit, startProcess } from '../support/processes.ts'
import { invitationTokenOf, isInvitationEmail, type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts'

export const password = 'correct horse battery staple'

export type CuttableProxy = Awaited<ReturnType<typeof cuttableProxy>>

export interface FaultStackOptions {
  /**
   * `all` (the default): one process per service serves the API and runs the workers. `worker`:
   * each service as an API process (`auth`, `invitation`) and a worker process (`workers`).
   */
  role?: 'all' | 'worker'
  /** Reach Postgres and Redis through proxies the test can cut and restore (`proxies`). */
  throughProxies?: boolean
}

export interface FaultStack {
  redis: RedisProcess
  database: IsolatedDatabase
  sink: SmtpSink
  /** The auth process serving the API now (replaced by `startAuth`). */
  auth: RunningProcess
  invitation: RunningProcess
  /** With `role: 'worker'`: the auth and invitation processes that run only the workers. */
  workers: RunningProcess[]
  /** With `throughProxies`: what stands between the services and Postgres, and Redis. */
  proxies: { postgres: CuttableProxy; redis: CuttableProxy } | undefined
  /** Every auth process started, killed ones included: their logs say which events each applied. */
  authProcesses: RunningProcess[]
  /** Starts auth again on the same port (after a kill), and makes it `auth`. */
  startAuth(): Promise<RunningProcess>
  /** The end of each process's output, for failure messages. */
  recentLogs(): string
  stop(): Promise<void>
}

export async function startFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  const role = options.role ?? 'all'
  const dataDir = temporaryDirectory('gatehouse-faults-')
  const started: {
    redis?: RedisProcess
    database?: IsolatedDatabase
    sink?: SmtpSink
    invitation?: RunningProcess
    proxies?: { postgres: CuttableProxy; redis: CuttableProxy }
  } = {}
  const authProcesses: RunningProcess[] = []
  const workers: RunningProcess[] = []
  async function stopAll() {
    await Promise.allSettled([
      started.invitation?.stop(),
      ...authProcesses.map((running) => running.stop()),
      ...workers.map((running) => running.stop()),
    ])
    await Promise.allSettled([started.proxies?.postgres.cut(), started.proxies?.redis.cut()])
    await Promise.allSettled([started.redis?.stop(), started.sink?.close(), started.database?.drop()])
    dataDir.remove()
  }
  try {
    const [redis, database, sink, authPort, invitationPort] = await Promise.all([
      startRedisProcess(),
      createIsolatedDatabase({ migrated: true }),
      startSmtpSink(),
      sparePort(),
      sparePort(),
    ])
    Object.assign(started, { redis, database, sink })
    if (options.throughProxies) {
      const [postgresProxy, redisProxy] = await Promise.all([
        cuttableProxy(hostAndPort(database.url)),
        cuttableProxy(hostAndPort(redis.url)),
      ])
      started.proxies = { postgres: postgresProxy, redis: redisProxy }
    }
    const shared = {
      DATABASE_URL: started.proxies ? withPort(database.url, started.proxies.postgres.port) : database.url,
      REDIS_URL: started.proxies ? withPort(redis.url, started.proxies.redis.port) : redis.url,
      PUBLIC_URL: 'http://localhost:3000',
      INTERNAL_TOKEN: internalToken,
      DATA_DIR: dataDir.path,
    }
    // API and worker processes wait for the migrations a deployment's migrate job applies.
    if (role === 'worker') {
      await Promise.all(
        (['auth', 'invitation'] as const).map(async (name) => {
          const migrated = await runToExit(name, { ...shared, ROLE: 'migrate' })
          if (migrated.code !== 0) throw new Error(`${name} migrations: ${migrated.stdout}${migrated.stderr}`)
        }),
      )
    }
    const apiRole = role === 'worker' ? 'api' : 'all'
    // Info level: auth logs the outcome of every invitation.accepted it applies, which is how a
    // test sees an event applied twice (the database's keys would hide a second application).
    const startAuth = async () => {
      const auth = await startProcess(
        'auth',
        { ...shared, ROLE: apiRole, PORT: String(authPort), LOG_LEVEL: 'info' },
        startTimeoutMs,
      )
      authProcesses.push(auth)
      stack.auth = auth
      return auth
    }
    const stack = {
      redis,
      database,
      sink,
      workers,
      proxies: started.proxies,
      authProcesses,
      startAuth,
      recentLogs: () =>
        [...authProcesses, started.invitation, ...workers]
          .filter((running) => running !== undefined)
          .map((running) => `--- ${running.name}:\n${running.output().slice(-3000)}`)
          .join('\n'),
      stop: stopAll,
    } as FaultStack
    // Started together: the invitation service needs auth only when a request comes.
    const invitationEnv = {
      ...shared,
      AUTH_URL: `http://127.0.0.1:${authPort}`,
      SMTP_URL: sink.url,
      // One fresh owner invites hundreds here: the daily invitation limits are not under test.
      INVITATION_MAILS_PER_INVITER: '100000',
      INVITATION_MAILS_PER_WORKSPACE: '100000',
    }
    const startWorker = async (name: 'auth' | 'invitation') => {
      const env = name === 'auth' ? shared : invitationEnv
      const worker = await startProcess(
        name,
        {
          ...env,
          ROLE: 'worker',
          PORT: String(await sparePort()),
          LOG_LEVEL: 'info',
        },
        startTimeoutMs,
      )
      workers.push(worker)
    }
    const [authStart, invitationStart, ...workerStarts] = await Promise.allSettled([
      startAuth(),
      startProcess('invitation', { ...invitationEnv, ROLE: apiRole, PORT: String(invitationPort) }, startTimeoutMs),
      ...(role === 'worker' ? [startWorker('auth'), startWorker('invitation')] : []),
    ])
    if (invitationStart.status === 'fulfilled') started.invitation = stack.invitation = invitationStart.value
    for (const start of [authStart, invitationStart, ...workerStarts])
      if (start.status === 'rejected') throw start.reason
    return stack
  } catch (error) {
    await stopAll()
    throw error
  }
}

// Up to four service processes start at once, on a machine that runs other test files too.
const startTimeoutMs = 120_000

const internalToken = `faults-internal-token-${'x'.repeat(32)}`

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port || (parsed.protocol === 'redis:' ? 6379 : 5432)) }
}

export interface Account {
  email: string
  cookie: string
  userId: string
  /** The person's own (loopback) address, which their requests come from. */
  sourceAddress: string
}

/**
 * A password signup, from a loopback address of the person's own: signup and accept are limited
 * per IP (20 and 30 a minute), and a fault test has hundreds of people sign up and accept at once.
 */
export async function signUp(stack: FaultStack, email: string): Promise<Account> {
  const sourceAddress = uniqueLoopbackAddress()
  const response = await request(`${stack.auth.url}/v1/auth/signup`, { json: { email, password }, sourceAddress })
  if (response.status !== 201)
    throw new Error(`signup of ${email}: ${response.status} ${JSON.stringify(response.body)}`)
  const cookie = response.cookies.session
  if (!cookie) throw new Error(`signup of ${email} set no session cookie`)
  const account = { email, cookie, userId: response.body.user.id, sourceAddress }
  await confirmAddress(
    { databaseUrl: stack.database.url, internalToken, baseUrl: stack.auth.url },
    account,
    sourceAddress,
  )
  return account
}

export async function createWorkspace(stack: FaultStack, owner: Account, name: string): Promise<string> {
  const response = await request(`${stack.auth.url}/v1/workspaces`, { cookie: owner.cookie, json: { name } })
  if (response.status !== 201) throw new Error(`workspace: ${response.status} ${JSON.stringify(response.body)}`)
  return response.body.workspace.id
}

/** Invites each email as a member; resolves with each email's invitation id. */
export async function inviteAll(
  stack: FaultStack,
  owner: Account,
  workspaceId: string,
  emails: string[],
): Promise<Map<string, string>> {
  const invitationIds = new Map<string, string>()
  await mapInParallel(emails, 8, async (email) => {
    const response = await request(`${stack.invitation.url}/v1/invitations`, {
      cookie: owner.cookie,
      json: { workspaceId, email, role: 'member' },
    })
    if (response.status !== 201) throw new Error(`invite ${email}: ${response.status} ${JSON.stringify(response.body)}`)
    invitationIds.set(email, response.body.invitation.id)
  })
  return invitationIds
}

/** Waits until the sink holds an invitation email for each address; resolves with each one's token. */
export async function tokensFromEmails(stack: FaultStack, emails: string[]): Promise<Map<string, string>> {
  return eventually(
    `invitation emails to all ${emails.length} invitees`,
    async () => {
      const tokens = new Map<string, string>()
      for (const email of stack.sink.received.filter(isInvitationEmail)) {
        for (const recipient of email.envelopeTo) tokens.set(recipient, invitationTokenOf(email))
      }
      return emails.every((email) => tokens.has(email)) ? tokens : undefined
    },
    { describe: () => `${stack.sink.received.length} emails received\n${stack.recentLogs()}` },
  )
}

/**
 * An owner's workspace with `count` people who signed up with a password and were invited (not
 * yet accepted): their accounts, invitation ids and the tokens from their emails, by email.
 */
export async function invitedPeople(stack: FaultStack, count: number, name: string) {
  const owner = await signUp(stack, uniqueEmail('owner'))
  const workspaceId = await createWorkspace(stack, owner, name)
  const emails = Array.from({ length: count }, (_, index) => uniqueEmail(`${name.toLowerCase()}-${index}`))
  const accounts = new Map<string, Account>()
  const [invitationIds] = await Promise.all([
    inviteAll(stack, owner, workspaceId, emails),
    mapInParallel(emails, 6, async (email) => {
      accounts.set(email, await signUp(stack, email))
    }),
  ])
  const tokens = await tokensFromEmails(stack, emails)
  return { owner, workspaceId, emails, accounts, invitationIds, tokens }
}

export function accept(stack: FaultStack, token: string, account: Account): Promise<HttpResult> {
  return request(`${stack.invitation.url}/v1/invitations/accept`, {
    cookie: account.cookie,
    json: { token },
    sourceAddress: account.sourceAddress,
  })
}

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure. */

/** The `invitation.accepted` events the invitation service wrote for these invitations, from its outbox. */
export async function acceptedEvents(
  stack: FaultStack,
  invitationIds: string[],
): Promise<{ eventId: string; invitationId: string; published: boolean }[]> {
  const rows = await stack.database.sql<{ eventId: string; invitationId: string; published: boolean }[]>`
    select id as "eventId", event->>'invitationId' as "invitationId", published_at is not null as published
    from invitation.outbox
    where type = 'invitation.accepted' and event->>'invitationId' = any(${invitationIds})`
  return [...rows]
}

/** How many membership rows auth holds per invited user in the workspace, and whether SSO is allowed. */
export async function membershipRows(
  stack: FaultStack,
  workspaceId: string,
  userIds: string[],
): Promise<{ userId: string; rows: number; ssoAllowed: boolean; invitationId: string | null }[]> {
  const rows = await stack.database.sql<
    { userId: string; rows: number; ssoAllowed: boolean; invitationId: string | null }[]
  >`
    select user_id as "userId", count(*)::int as rows, bool_and(sso_allowed) as "ssoAllowed",
           min(invitation_id::text) as "invitationId"
    from auth.memberships
    where workspace_id = ${workspaceId} and user_id = any(${userIds})
    group by user_id`
  return [...rows]
}

/** How many times auth recorded each event id as processed. */
export async function processedEventCounts(stack: FaultStack, eventIds: string[]): Promise<Map<string, number>> {
  const rows = await stack.database.sql<{ eventId: string; count: number }[]>`
    select event_id as "eventId", count(*)::int as count
    from auth.processed_events
    where event_id = any(${eventIds})
    group by event_id`
  return new Map(rows.map((row) => [row.eventId, row.count]))
}

/**
 * What each auth process logged when it applied an `invitation.accepted` event: the event ids it
 * granted a membership for, and those it found already processed.
 */
export function appliedOutcomes(auth: RunningProcess): { granted: string[]; duplicate: string[]; other: string[] } {
  const outcomes = { granted: [] as string[], duplicate: [] as string[], other: [] as string[] }
  for (const line of auth.output().split('\n')) {
    if (!line.includes('invitation.accepted applied')) continue
    const entry = JSON.parse(line) as { eventId: string; outcome: string }
    if (entry.outcome === 'granted') outcomes.granted.push(entry.eventId)
    else if (entry.outcome === 'duplicate') outcomes.duplicate.push(entry.eventId)
    else outcomes.other.push(`${entry.eventId}: ${entry.outcome}`)
  }
  return outcomes
}

/** Whether auth's session route shows this person as an SSO-allowed member of the workspace. */
export async function sessionAllowsSso(stack: FaultStack, account: Account, workspaceId: string): Promise<boolean> {
  const session = await request(`${stack.auth.url}/v1/auth/session`, {
    cookie: account.cookie,
    sourceAddress: account.sourceAddress,
  })
  if (session.status !== 200) throw new Error(`session of ${account.email}: ${session.status}`)
  const memberships = session.body.memberships as { workspaceId: string; ssoAllowed: boolean }[]
  return memberships.some((membership) => membership.workspaceId === workspaceId && membership.ssoAllowed)
}
