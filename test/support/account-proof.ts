// Proving an account's address in tests that run the real processes, as its owner would: the
// confirmation link auth mailed (its `auth.link.issued` event, opened with the stack's
// INTERNAL_TOKEN as the invitation service's mailer opens it), used from the account's browser.
import { createTokenSeal } from '@gatehouse/server/sealed-token'
import postgres from 'postgres'
import { request } from './http-client.ts'

export interface ProofContext {
  /** The database auth runs on (its `auth.outbox`). */
  databaseUrl: string
  internalToken: string
  /** Where `/v1/auth/*` is reached: auth itself or the web gateway. */
  baseUrl: string
}

/** The token of the newest link of `purpose` auth mailed to the account. */
export async function mailedLinkToken(
  context: Pick<ProofContext, 'databaseUrl' | 'internalToken'>,
  userId: string,
  purpose: 'confirm_email' | 'reset_password' = 'confirm_email',
): Promise<string> {
  const sql = postgres(context.databaseUrl, { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql<{ event: { linkId: string; sealedToken: string } }[]>`
      select event from auth.outbox
      where type = 'auth.link.issued' and event ->> 'userId' = ${userId} and event ->> 'purpose' = ${purpose}
      order by position desc limit 1`
    if (!row) throw new Error(`no ${purpose} link was mailed to ${userId}`)
    const token = createTokenSeal(context.internalToken).open(row.event.sealedToken, row.event.linkId)
    if (!token) throw new Error('the mailed link does not open with this INTERNAL_TOKEN')
    return token
  } finally {
    await sql.end()
  }
}

/** Confirms the address of a just signed-up account from its own browser (`cookie`). */
export async function confirmAddress(
  context: ProofContext,
  account: { userId: string; cookie: string },
  sourceAddress?: string,
): Promise<void> {
  const token = await mailedLinkToken(context, account.userId)
  const confirmed = await request(`${context.baseUrl}/v1/auth/email/confirm`, {
    cookie: account.cookie,
    json: { token },
    ...(sourceAddress ? { sourceAddress } : {}),
  })
  if (confirmed.status !== 200) throw new Error(`confirmation: ${confirmed.status} ${JSON.stringify(confirmed.body)}`)
}
