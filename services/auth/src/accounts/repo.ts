import { eq } from 'drizzle-orm'
import { users } from '../db/schema.ts'
import type { Executor, UserRow } from '../sessions/repo.ts'

export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1)
  return row
}

/** Inserts the user, or returns undefined when the email is taken (unique index). */
export async function insertPasswordUser(
  db: Executor,
  values: { email: string; passwordHash: string; firstName: string | null; lastName: string | null },
): Promise<UserRow | undefined> {
  const [row] = await db
    .insert(users)
    .values({ ...values, createdVia: 'password' })
    .onConflictDoNothing({ target: users.email })
    .returning()
  return row
}

export async function updateUserNames(
  db: Executor,
  userId: string,
  names: { firstName?: string | undefined; lastName?: string | undefined },
  now: Date,
): Promise<UserRow | undefined> {
  const changes = Object.fromEntries(Object.entries(names).filter(([, value]) => value !== undefined))
  if (Object.keys(changes).length === 0) return undefined
  const [row] = await db
    .update(users)
    .set({ ...changes, updatedAt: now })
    .where(eq(users.id, userId))
    .returning()
  return row
}
