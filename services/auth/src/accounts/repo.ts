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
