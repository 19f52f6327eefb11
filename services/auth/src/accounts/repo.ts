import { and, eq, isNull } from 'drizzle-orm'
import { type EmailProof, users } from '../db/schema.ts'
import type { Executor, UserRow } from '../sessions/repo.ts'

export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1)
  return row
}

export async function findUserById(db: Executor, userId: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, userId)).limit(1)
  return row
}

/** Inserts the user, or returns undefined when the email is taken (unique index). */
export async function insertPasswordUser(
  db: Executor,
  values: {
    email: string
    passwordHash: string
    firstName: string | null
    lastName: string | null
    emailConfirmedAt: Date | null
    emailConfirmedVia: EmailProof | null
  },
): Promise<UserRow | undefined> {
  const [row] = await db
    .insert(users)
    .values({ ...values, createdVia: 'password' })
    .onConflictDoNothing({ target: users.email })
    .returning()
  return row
}

export async function setPasswordHash(db: Executor, userId: string, passwordHash: string, now: Date): Promise<void> {
  await db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, userId))
}

/** Records the proof of the account's address; false when it was proven already. */
export async function markEmailConfirmed(db: Executor, userId: string, via: EmailProof, now: Date): Promise<boolean> {
  const updated = await db
    .update(users)
    .set({ emailConfirmedAt: now, emailConfirmedVia: via, updatedAt: now })
    .where(and(eq(users.id, userId), isNull(users.emailConfirmedAt)))
    .returning({ id: users.id })
  return updated.length > 0
}
