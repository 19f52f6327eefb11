import { and, count, eq, gt, isNull, ne } from 'drizzle-orm'
import { accountLinks } from '../db/schema.ts'
import type { Executor } from '../sessions/repo.ts'

export type AccountLinkRow = typeof accountLinks.$inferSelect
export type LinkPurpose = AccountLinkRow['purpose']

/** Inserts a link; undefined when one already answers `requestEventId` (the event came twice). */
export async function insertLink(
  db: Executor,
  values: typeof accountLinks.$inferInsert,
): Promise<AccountLinkRow | undefined> {
  const [row] = await db.insert(accountLinks).values(values).onConflictDoNothing().returning()
  return row
}

export async function findLinkByTokenHash(
  db: Executor,
  tokenHash: string,
  purpose: LinkPurpose,
): Promise<AccountLinkRow | undefined> {
  const [row] = await db
    .select()
    .from(accountLinks)
    .where(and(eq(accountLinks.tokenHash, tokenHash), eq(accountLinks.purpose, purpose)))
    .limit(1)
  return row
}

/** Uses the link once: false when it was used (or expired) meanwhile, by a concurrent request. */
export async function useLink(db: Executor, linkId: string, now: Date): Promise<boolean> {
  const used = await db
    .update(accountLinks)
    .set({ usedAt: now })
    .where(and(eq(accountLinks.id, linkId), isNull(accountLinks.usedAt), gt(accountLinks.expiresAt, now)))
    .returning({ id: accountLinks.id })
  return used.length > 0
}

/** Retires the account's unused links (of one purpose, or all) but `except`: only the newest, or none, works. */
export async function retireLinks(
  db: Executor,
  userId: string,
  now: Date,
  options: { purpose?: LinkPurpose; except?: string } = {},
): Promise<void> {
  await db
    .update(accountLinks)
    .set({ usedAt: now })
    .where(
      and(
        eq(accountLinks.userId, userId),
        isNull(accountLinks.usedAt),
        options.purpose ? eq(accountLinks.purpose, options.purpose) : undefined,
        options.except ? ne(accountLinks.id, options.except) : undefined,
      ),
    )
}

/** How many links of a purpose the account was sent since `since`: bounds the mails one address gets. */
export async function countLinksSince(db: Executor, userId: string, purpose: LinkPurpose, since: Date) {
  const [row] = await db
    .select({ sent: count() })
    .from(accountLinks)
    .where(and(eq(accountLinks.userId, userId), eq(accountLinks.purpose, purpose), gt(accountLinks.createdAt, since)))
  return row?.sent ?? 0
}
