import type { Database } from '@gatehouse/db'
import type * as schema from './schema.ts'

export type InvitationDatabase = Database<typeof schema>
/** The database or a transaction: what repo functions run their queries on. */
export type Executor = Pick<InvitationDatabase, 'select' | 'insert' | 'update' | 'delete' | 'execute' | '_'>
