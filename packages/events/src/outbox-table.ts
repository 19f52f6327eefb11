import { type SQL, sql } from 'drizzle-orm'
import {
  bigint,
  index,
  jsonb,
  type PgDatabase,
  type PgQueryResultHKT,
  type PgSchema,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core'
import { type GatehouseEvent, parseEvent } from './event-schemas.ts'

/**
 * The outbox of one service, declared in that service's own Postgres schema so that drizzle-kit
 * generates it with the service's migrations: `export const outbox = outboxTable(authSchema)`.
 * A row is an event waiting for the relay (`published_at` null) or one already handed to Redis.
 */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      id: uuid('id').primaryKey(),
      // Relays publish in commit-ish order; a uuid cannot give an order, an identity can.
      position: bigint('position', { mode: 'number' }).generatedAlwaysAsIdentity(),
      type: text('type').notNull(),
      event: jsonb('event').$type<GatehouseEvent>().notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      publishedAt: timestamp('published_at', { withTimezone: true }),
    },
    (table) => [
      // The relay's claim reads only unpublished rows: a partial index keeps that cheap however
      // many published rows are retained.
      index('outbox_unpublished_idx').on(table.position).where(sql`"published_at" is null`),
      index('outbox_published_at_idx').on(table.publishedAt).where(sql`"published_at" is not null`),
    ],
  )
}

export type OutboxTable = ReturnType<typeof outboxTable>

/** A drizzle database or transaction: anything that can insert. */
export type OutboxWriter = Pick<PgDatabase<PgQueryResultHKT>, 'insert'>

/**
 * Records events in the caller's transaction: they reach Redis only if that transaction commits.
 * Call the relay's `wake()` after the commit so they leave at once rather than at the next poll.
 */
export async function writeEvents(tx: OutboxWriter, table: OutboxTable, events: GatehouseEvent[]): Promise<void> {
  if (events.length === 0) return
  await outboxInsert(tx, table, events)
}

/**
 * The outbox INSERT for `events`, not yet run: for a producer that folds it into one statement with
 * the fact it announces (a data-modifying CTE), which commits both at once in one round trip.
 */
export function outboxInsert(tx: OutboxWriter, table: OutboxTable, events: GatehouseEvent[]) {
  // Validated here so a malformed event fails the producer's write instead of reaching consumers.
  return tx.insert(table).values(events.map((event) => ({ id: event.id, type: event.type, event: parseEvent(event) })))
}

export async function writeEvent(tx: OutboxWriter, table: OutboxTable, event: GatehouseEvent): Promise<void> {
  await writeEvents(tx, table, [event])
}

/**
 * The outbox INSERT of `event` once per row of `source`, a CTE of the caller's statement: for a
 * statement that announces its change only if the change happened, e.g. `with accepted as (update
 * … returning id), announced as (${outboxInsertFrom(outbox, event, 'accepted')}) select …`.
 * `payloadFromSource` adds payload fields that only the statement knows (field name → column of
 * `source`), e.g. `{ userId: 'id' }`.
 */
export function outboxInsertFrom(
  table: OutboxTable,
  event: GatehouseEvent,
  source: string,
  payloadFromSource: Record<string, string> = {},
): SQL {
  return insertFrom(table, event.id, event.type, JSON.stringify(parseEvent(event)), source, payloadFromSource)
}

/**
 * `outboxInsertFrom` for a statement composed once and run with values (`preparedStatement` of
 * @gatehouse/db): the event's id and JSON are the placeholders `<name>Id` and `<name>Json`, whose
 * values `outboxPlaceholderValues` gives for each event.
 */
export function outboxInsertFromPlaceholders(
  table: OutboxTable,
  type: GatehouseEvent['type'],
  name: string,
  source: string,
  payloadFromSource: Record<string, string> = {},
): SQL {
  return insertFrom(
    table,
    sql.placeholder(`${name}Id`),
    type,
    sql.placeholder(`${name}Json`),
    source,
    payloadFromSource,
  )
}

/** The values of `outboxInsertFromPlaceholders`'s placeholders for `event` (validated here, as by outboxInsertFrom). */
export function outboxPlaceholderValues(event: GatehouseEvent, name: string): Record<string, string> {
  return { [`${name}Id`]: event.id, [`${name}Json`]: JSON.stringify(parseEvent(event)) }
}

function insertFrom(
  table: OutboxTable,
  id: unknown,
  type: string,
  json: unknown,
  source: string,
  payloadFromSource: Record<string, string>,
): SQL {
  const fields = Object.entries(payloadFromSource).map(
    ([field, column]) => sql`${field}::text, ${sql.identifier(column)}`,
  )
  const event = sql`${json}::jsonb`
  const eventJson = fields.length === 0 ? event : sql`${event} || jsonb_build_object(${sql.join(fields, sql`, `)})`
  return sql`insert into ${table} (id, type, event) select ${id}::uuid, ${type}, ${eventJson} from ${sql.identifier(source)}`
}
