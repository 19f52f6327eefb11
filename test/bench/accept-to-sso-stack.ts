// The world accept-to-sso.bench.ts measures in: the one stack (test/support/stack.ts) of auth and
// invitation, with a database of its own (so the trigger the bench adds to auth.memberships exists
// nowhere else, and no other engineer's rows share its tables) and a Redis database no other
// client is connected to (the services' `invitation-events` queue name is fixed, so an auth process
// elsewhere on the same database would take the bench's events); and invitees who signed up with
// a password and hold an invitation token read from their email. The emails are the `.eml` files
// the invitation service writes without SMTP_URL (CONTRACT.md): an SMTP sink parsing 2,000
// messages cost the setup more CPU than the invitations themselves on a 2-core machine.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRedis } from '@gatehouse/server/redis'
import { uniqueEmail } from '@gatehouse/testing'
import type postgres from 'postgres'
import { confirmAddress } from '../support/account-proof.ts'
import { request, uniqueLoopbackAddress } from '../support/http-client.ts'
import { mapInParallel } from '../support/parallel.ts'
import type { RunningProcess } from '../support/processes.ts'
import { startStack } from '../support/stack.ts'

const indexes = (count: number) => Array.from({ length: count }, (_, index) => index)

export type Sql = ReturnType<typeof postgres>
type Redis = ReturnType<typeof createRedis>

export const ssoAllowedChannel = 'bench_sso_allowed'
const password = 'correct horse battery staple'
const silentLog = { info: () => {}, warn: () => {}, error: () => {} }

/** A password account with its session, signed up through auth's API. */
export interface Invitee {
  email: string
  userId: string
  cookie: string
  /** Signed up from this loopback address: per-IP limits count each invitee apart. */
  sourceAddress: string
}

/** One invitation of one invitee, with the token its email carried. */
export interface Invitation {
  invitee: Invitee
  workspaceId: string
  invitationId: string
  token: string
}

export interface AcceptToSsoStack {
  auth: RunningProcess
  invitation: RunningProcess
  /** A connection to the stack's database (the bench's own reads and its LISTEN). */
  sql: Sql
  redis: Redis
  redisUrl: string
  /** The owner of every workspace the stack creates: their session cookie and the address they use. */
  owner: { cookie: string; sourceAddress: string }
  createWorkspace(name: string): Promise<string>
  signUpInvitees(count: number, concurrency: number): Promise<Invitee[]>
  /** Invites each invitee into the workspace (named `workspaceName`) and reads each token from its email. */
  invite(
    invitees: Invitee[],
    workspaceId: string,
    workspaceName: string,
    concurrency: number,
    role?: 'member' | 'admin',
  ): Promise<Invitation[]>
  /** Resolves once no outbox row waits and no `invitation-events` job waits or runs. */
  drained(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

export async function startAcceptToSsoStack(): Promise<AcceptToSsoStack> {
  const stack = await startStack({
    web: false,
    devIdp: false,
    // One fresh owner invites thousands here: the daily invitation limits are not measured.
    invitationEnv: { INVITATION_MAILS_PER_INVITER: '1000000', INVITATION_MAILS_PER_WORKSPACE: '1000000' },
  })
  const cleanups: (() => Promise<void> | void)[] = [() => stack.stop()]
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {})
  }
  try {
    const auth = stack.program('auth')
    const invitation = stack.program('invitation')
    const sql = stack.database.sql
    const redis = createRedis(stack.redisUrl, { role: 'waiting', log: silentLog, name: 'accept-to-sso-bench' })
    cleanups.push(() => redis.disconnect())
    const mailDirectory = join(stack.dataDir, 'mail')

    // The stack's database is the bench's alone, so the trigger that makes "SSO allowed" observable
    // lives only here. pg_notify is delivered when the granting transaction commits, after its rows
    // became visible: the notification is the moment any new query would see the membership.
    await sql.unsafe(`
      CREATE FUNCTION public.bench_notify_sso_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${ssoAllowedChannel}', NEW.workspace_id::text || ' ' || NEW.user_id::text);
        RETURN NULL;
      END $$;
      CREATE TRIGGER bench_notify_sso_allowed AFTER INSERT OR UPDATE ON auth.memberships
        FOR EACH ROW WHEN (NEW.sso_allowed) EXECUTE FUNCTION public.bench_notify_sso_allowed();
    `)

    const ownerAddress = uniqueLoopbackAddress()
    const owner = await request(`${auth.url}/v1/auth/signup`, {
      json: { email: uniqueEmail('bench-owner'), password },
      sourceAddress: ownerAddress,
    })
    if (owner.status !== 201) throw new Error(`owner signup: ${owner.status} ${JSON.stringify(owner.body)}`)
    const ownerCookie = owner.cookies.session ?? ''

    async function createWorkspace(name: string): Promise<string> {
      const workspace = await request(`${auth.url}/v1/workspaces`, {
        cookie: ownerCookie,
        json: { name },
        sourceAddress: ownerAddress,
      })
      if (workspace.status !== 201) throw new Error(`workspace: ${workspace.status} ${JSON.stringify(workspace.body)}`)
      return workspace.body.workspace.id as string
    }

    async function signUpInvitee(): Promise<Invitee> {
      const email = uniqueEmail('bench-invitee')
      const sourceAddress = uniqueLoopbackAddress()
      const signedUp = await request(`${auth.url}/v1/auth/signup`, { json: { email, password }, sourceAddress })
      if (signedUp.status !== 201) throw new Error(`signup: ${signedUp.status} ${JSON.stringify(signedUp.body)}`)
      const invitee = {
        email,
        userId: signedUp.body.user.id as string,
        cookie: signedUp.cookies.session ?? '',
        sourceAddress,
      }
      // Only a proven address may accept.
      await confirmAddress(stack.proof, invitee, sourceAddress)
      return invitee
    }

    // Emails arrive in any order: each one's token is filed under its recipient and the workspace
    // its subject names ("… invited you to <workspace> on Gatehouse").
    const tokens = new Map<string, string>()
    const tokenKey = (email: string, workspaceName: string) => `${workspaceName}\n${email}`
    const readFiles = new Set<string>()
    async function fileReceivedEmails(): Promise<void> {
      const names = await readdir(mailDirectory).catch(() => [] as string[])
      for (const name of names) {
        if (!name.endsWith('.eml') || readFiles.has(name)) continue
        const message = await readFile(join(mailDirectory, name), 'utf8')
        const separator = message.indexOf('\n\n')
        const headers = message.slice(0, separator).replace(/\r?\n[ \t]+/g, ' ')
        // The text part may be quoted-printable: undo soft line breaks and =XX escapes.
        const body = message
          .slice(separator)
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
        const to = /^To: (.+)$/m.exec(headers)?.[1]?.trim()
        const workspaceName = /^Subject: .* invited you to (.+) on Gatehouse$/m.exec(headers)?.[1]
        const token = /\/invite#token=([\w-]+)/.exec(body)?.[1]
        // A file still being written is read again at the next look.
        if (!to || workspaceName === undefined || !token) continue
        readFiles.add(name)
        tokens.set(tokenKey(to, workspaceName), token)
      }
    }

    async function invite(
      invitees: Invitee[],
      workspaceId: string,
      workspaceName: string,
      concurrency: number,
      role: 'member' | 'admin' = 'member',
    ): Promise<Invitation[]> {
      const invitationIds = await mapInParallel(indexes(invitees.length), concurrency, async (index) => {
        const invited = await request(`${invitation.url}/v1/invitations`, {
          cookie: ownerCookie,
          json: { workspaceId, email: invitees[index]?.email, role },
          sourceAddress: ownerAddress,
        })
        if (invited.status !== 201) throw new Error(`invite: ${invited.status} ${JSON.stringify(invited.body)}`)
        return invited.body.invitation.id as string
      })
      const deadline = Date.now() + 120_000
      const missing = () => invitees.filter((invitee) => !tokens.has(tokenKey(invitee.email, workspaceName)))
      while (missing().length > 0) {
        if (Date.now() > deadline) throw new Error(`${missing().length} invitation emails did not arrive`)
        await new Promise((resolve) => setTimeout(resolve, 50))
        await fileReceivedEmails()
      }
      return invitees.map((invitee, index) => ({
        invitee,
        workspaceId,
        invitationId: invitationIds[index] ?? '',
        token: tokens.get(tokenKey(invitee.email, workspaceName)) ?? '',
      }))
    }

    async function drained(timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (true) {
        const [{ unpublished }] = (await sql`
          SELECT count(*)::int AS unpublished FROM invitation.outbox WHERE published_at IS NULL
        `) as unknown as [{ unpublished: number }]
        const queued = await redis
          .multi()
          .llen('bull:invitation-events:wait')
          .llen('bull:invitation-events:active')
          .zcard('bull:invitation-events:prioritized')
          .zcard('bull:invitation-events:delayed')
          .exec()
        const jobs = (queued ?? []).reduce((sum, [, value]) => sum + Number(value), 0)
        if (unpublished === 0 && jobs === 0) return
        if (Date.now() > deadline) throw new Error(`not drained: ${unpublished} outbox rows, ${jobs} jobs`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }

    return {
      auth,
      invitation,
      sql,
      redis,
      redisUrl: stack.redisUrl,
      owner: { cookie: ownerCookie, sourceAddress: ownerAddress },
      createWorkspace,
      signUpInvitees: (count, concurrency) => mapInParallel(indexes(count), concurrency, () => signUpInvitee()),
      invite,
      drained,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
