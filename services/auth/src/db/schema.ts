import { sql } from 'drizzle-orm'
import { pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

export const authSchema = pgSchema('auth')

/** One person. `createdVia` records how the account was made: only `password` accounts may use SSO. */
export const users = authSchema.table(
  'users',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    email: text('email').notNull(),
    passwordHash: text('password_hash'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    createdVia: text('created_via', { enum: ['password'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('users_email_key').on(table.email)],
)
