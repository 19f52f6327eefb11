// What every fault test stands on: the one stack (test/support/stack.ts) with the real auth and
// invitation processes, a Redis server of the test's own that it can stop, a database of its own
// (see isolated-database.ts for why) and an SMTP sink; plus the steps of the invitation flow, done
// through the public HTTP routes.
import { after, before } from 'node:test'
import { eventually, uniqueEmail } from '@gatehouse/testing'
import { confirmAddress } from '../support/account-proof.ts'
import { type HttpResult, request, uniqueLoopbackAddress } from '../support/http-client.ts'
import { mapInParallel } from '../support/parallel.ts'
import type { RunningProcess } from '../support/processes.ts'
import { invitationTokenOf, isInvitationEmail } from '../support/smtp-sink.ts'
import { type Stack, startStack } from '../support/stack.ts'

export const password = 'correct horse battery staple'

export interface FaultStackOptions {
  /**
   * `all` (the default): one process per service serves the API and runs the workers. `worker`:
   * each service as an API process and a worker process (the stack's `workers`).
   */
  role?: 'all' | 'worker'
  /** Reach Postgres and Redis through proxies the test can cut and restore (the stack's `proxies`). */
  throughProxies?: boolean
}

/**
 * The stack of the `describe` this is called in: started before its tests, stopped after them.
 * Resolves, inside a test, to the running stack.
 */
export function useFaultStack(options: FaultStackOptions = {}): () => Stack {
  let stack: Stack | undefined
  before(async () => {
    stack = await startStack({
      web: false,
      devIdp: false,
      redis: 'process',
      smtpSink: true,
      throughProxies: options.throughProxies ?? false,
      separateWorkers: options.role === 'worker',
      // Info level: auth logs the outcome of every invitation.accepted it applies, which is how a
      // test sees an event applied twice (the database's keys would hide a second application).
      authEnv: { LOG_LEVEL: 'info' },
      // One fresh owner invites hundreds here: the daily invitation limits are not under test.
      invitationEnv: { INVITATION_MAILS_PER_INVITER: '100000', INVITATION_MAILS_PER_WORKSPACE: '100000' },
    })
  })
  after(async () => {
    await stack?.stop()
  })
  return () => {
    if (!stack) throw new Error('the fault stack did not start')
    return stack
  }
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
export async function signUp(stack: Stack, email: string): Promise<Account> {
  const sourceAddress = uniqueLoopbackAddress()
  const response = await request(`${stack.program('auth').url}/v1/auth/signup`, {
    json: { email, password },
    sourceAddress,
  })
  if (response.status !== 201)
    throw new Error(`signup of ${email}: ${response.status} ${JSON.stringify(response.body)}`)
  const cookie = response.cookies.session
  if (!cookie) throw new Error(`signup of ${email} set no session cookie`)
  const account = { email, cookie, userId: response.body.user.id, sourceAddress }
  await confirmAddress(stack.proof, account, sourceAddress)
  return account
}

export async function createWorkspace(stack: Stack, owner: Account, name: string): Promise<string> {
  const response = await request(`${stack.program('auth').url}/v1/workspaces`, { cookie: owner.cookie, json: { name } })
  if (response.status !== 201) throw new Error(`workspace: ${response.status} ${JSON.stringify(response.body)}`)
  return response.body.workspace.id
}

/** Invites each email as a member; resolves with each email's invitation id. */
export async function inviteAll(
  stack: Stack,
  owner: Account,
  workspaceId: string,
  emails: string[],
): Promise<Map<string, string>> {
  const invitationIds = new Map<string, string>()
  await mapInParallel(emails, 8, async (email) => {
    const response = await request(`${stack.program('invitation').url}/v1/invitations`, {
      cookie: owner.cookie,
      json: { workspaceId, email, role: 'member' },
    })
    if (response.status !== 201) throw new Error(`invite ${email}: ${response.status} ${JSON.stringify(response.body)}`)
    invitationIds.set(email, response.body.invitation.id)
  })
  return invitationIds
}

/** Waits until the sink holds an invitation email for each address; resolves with each one's token. */
export async function tokensFromEmails(stack: Stack, emails: string[]): Promise<Map<string, string>> {
  return eventually(
    `invitation emails to all ${emails.length} invitees`,
    async () => {
      const tokens = new Map<string, string>()
      for (const email of stack.sink.received.filter(isInvitationEmail)) {
        for (const recipient of email.envelopeTo) tokens.set(recipient, invitationTokenOf(email))
      }
      return emails.every((email) => tokens.has(email)) ? tokens : undefined
    },
    { describe: () => `${stack.sink.received.length} emails received\n${stack.output(3000)}` },
  )
}

/**
 * An owner's workspace with `count` people who signed up with a password and were invited (not
 * yet accepted): their accounts, invitation ids and the tokens from their emails, by email.
 */
export async function invitedPeople(stack: Stack, count: number, name: string) {
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

export function accept(stack: Stack, token: string, account: Account): Promise<HttpResult> {
  return request(`${stack.program('invitation').url}/v1/invitations/accept`, {
    cookie: account.cookie,
    json: { token },
    sourceAddress: account.sourceAddress,
  })
}

/** The `invitation.accepted` events the invitation service wrote for these invitations, from its outbox. */
export async function acceptedEvents(
  stack: Stack,
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
  stack: Stack,
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
export async function processedEventCounts(stack: Stack, eventIds: string[]): Promise<Map<string, number>> {
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
export async function sessionAllowsSso(stack: Stack, account: Account, workspaceId: string): Promise<boolean> {
  const session = await request(`${stack.program('auth').url}/v1/auth/session`, {
    cookie: account.cookie,
    sourceAddress: account.sourceAddress,
  })
  if (session.status !== 200) throw new Error(`session of ${account.email}: ${session.status}`)
  const memberships = session.body.memberships as { workspaceId: string; ssoAllowed: boolean }[]
  return memberships.some((membership) => membership.workspaceId === workspaceId && membership.ssoAllowed)
}
