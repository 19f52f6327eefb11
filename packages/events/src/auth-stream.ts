// The fan-out of `auth.*` events over a Redis stream with consumer groups: each group keeps its
// own position and its own list of delivered-but-unacknowledged entries, so every group receives
// every event, a restarted group resumes where it stopped, and a dead consumer's entries can be
// claimed by a live one (XAUTOCLAIM).
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { failureFields, outageCode } from '@gatehouse/server/failures'
import { closeRedis, createRedis } from '@gatehouse/server/redis'
import { publishedMarker } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'
import { authEventsStream } from './destinations.ts'
import { type AuthEvent, type GatehouseEvent, InvalidEventError, isAuthEvent, parseEventJson } from './event-schemas.ts'
import { defaultLog, type EventsLog } from './log.ts'
import { startPollLoop } from './poll-loop.ts'

/**
 * Approximate cap on the stream's length (XADD MAXLEN ~): at the contract's rates this keeps days
 * of login events for replay while bounding Redis memory (~0.5 KB an entry, so ~500 MB at most).
 * A group that falls further behind than this loses the oldest entries it had not read.
 */
export const streamMaxLength = 1_000_000

// SET NX of a per-event marker and XADD in one script, so publishing the same event twice (the
// relay's retry after a crash) appends it once. KEYS: the stream, then one marker per event.
// ARGV: max length, marker TTL, then the id and JSON of each event in KEYS order.
const publishScript = `
local appended = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[2]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', ARGV[2 * i - 1], 'event', ARGV[2 * i])
    appended = appended + 1
  end
end
return appended
`

type PublishingRedis = Redis & {
  gatehousePublishEvents(numberOfKeys: number, ...keysAndArguments: string[]): Promise<number>
}

function withPublishScript(redis: Redis): PublishingRedis {
  const publishing = redis as PublishingRedis
  if (typeof publishing.gatehousePublishEvents !== 'function') {
    redis.defineCommand('gatehousePublishEvents', { lua: publishScript })
  }
  return publishing
}

/** Appends events to a stream, each at most once per event id; returns how many were appended. */
export async function publishToStream(redis: Redis, stream: string, events: GatehouseEvent[]): Promise<number> {
  return appendToStream(
    redis,
    stream,
    events.map((event) => ({ id: event.id, json: JSON.stringify(event) })),
  )
}

/** `publishToStream` for events already serialized (the relay reads them from Postgres as text). */
export async function appendToStream(
  redis: Redis,
  stream: string,
  entries: { id: string; json: string }[],
): Promise<number> {
  if (entries.length === 0) return 0
  const keys = [stream, ...entries.map((entry) => publishedMarker.key(stream, entry.id))]
  const scriptArguments = [
    String(streamMaxLength),
    String(publishedMarker.seconds),
    ...entries.flatMap((entry) => [entry.id, entry.json]),
  ]
  return withPublishScript(redis).gatehousePublishEvents(keys.length, ...keys, ...scriptArguments)
}

export interface SubscribeOptions {
  redisUrl: string
  /** The subscriber group: every group receives every event; consumers of one group share them. */
  group: string
  /** This process's name within the group; defaults to host, pid and a random suffix. */
  consumer?: string
  /** Where a group that does not exist yet starts; an existing group resumes from its position. */
  from?: 'now' | 'start'
  stream?: string
  /** How long an entry stays unacknowledged before another consumer (or this one) takes it over. */
  claimIdleMs?: number
  /** Entries read per round trip. */
  batchSize?: number
  /**
   * Consumers of the group that hold no pending entry and have not read for this long are removed
   * (a live one reads every few seconds); otherwise every process that ever subscribed would stay
   * listed in the group forever.
   */
  forgetIdleConsumersMs?: number
  log?: EventsLog
}

export interface Subscription {
  /** Stops reading, lets the handler in progress finish and acknowledges what it handled. */
  close(): Promise<void>
}

type StreamEntry = [id: string, fields: string[] | null]
type ReadReply = [stream: string, entries: StreamEntry[]][] | null
type AutoclaimReply = [cursor: string, entries: (StreamEntry | null)[], deleted?: string[]]

/**
 * Subscribes a group to the `auth-events` stream. The handler gets each event at least once and
 * must be idempotent on `event.id`; an event whose handler throws stays pending and is handed out
 * again after `claimIdleMs`, as are the events of a consumer that died before acknowledging them.
 */
export async function subscribe(
  options: SubscribeOptions,
  handler: (event: AuthEvent) => Promise<void>,
): Promise<Subscription> {
  const stream = options.stream ?? authEventsStream
  const group = options.group
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const claimIdleMs = options.claimIdleMs ?? 30_000
  const batchSize = options.batchSize ?? 500
  const forgetIdleConsumersMs = options.forgetIdleConsumersMs ?? 10 * 60_000
  const log = options.log ?? defaultLog
  const claimIntervalMs = Math.max(50, Math.min(claimIdleMs / 2, 10_000))
  const blockMs = Math.max(10, Math.min(claimIntervalMs, 2_000))
  const context = { stream, group, consumer }

  // Blocking reads get their own connection so acknowledgements and claims never queue behind them.
  const commands = createRedis(options.redisUrl, { role: 'waiting', log: log, name: `gatehouse-subscriber-${group}` })
  const reader = createRedis(options.redisUrl, {
    role: 'waiting',
    log: log,
    name: `gatehouse-subscriber-${group}-reader`,
  })
  try {
    await createGroup(commands, stream, group, options.from === 'start' ? '0' : '$')
  } catch (error) {
    reader.disconnect()
    commands.disconnect()
    throw error
  }

  let stopping = false

  async function handleEntries(entries: StreamEntry[]): Promise<void> {
    const handled: string[] = []
    let outage: unknown
    for (const [entryId, fields] of entries) {
      if (stopping) break
      const event = decodeEntry(entryId, fields)
      if (event === null) {
        // Garbage can never be handled: acknowledging it keeps it from being retried forever.
        handled.push(entryId)
        continue
      }
      try {
        await handler(event)
        handled.push(entryId)
      } catch (error) {
        // The database or Redis is away: the rest of the batch would fail the same way. They stay
        // pending (taken over again after `claimIdleMs`) and the loop backs off, logging it once.
        if (outageCode(error)) {
          outage = error
          break
        }
        log.warn(
          { ...context, eventId: event.id, type: event.type, ...failureFields(error) },
          'event handler failed; the event stays pending and will be retried',
        )
      }
    }
    if (handled.length > 0) await commands.xack(stream, group, ...handled)
    if (outage) throw outage
  }

  function decodeEntry(entryId: string, fields: string[] | null): AuthEvent | null {
    const eventJson = fieldValue(fields, 'event')
    try {
      if (eventJson === undefined) throw new InvalidEventError('the entry has no event field')
      const event = parseEventJson(eventJson)
      if (!isAuthEvent(event)) throw new InvalidEventError(`${event.type} does not belong on the auth stream`)
      return event
    } catch (error) {
      log.error(
        { ...context, entryId, code: 'invalid_event', err: errorMessage(error) },
        'dropping a stream entry that is not an auth event',
      )
      return null
    }
  }

  async function claimAbandoned(): Promise<void> {
    let cursor = '0-0'
    // Bounded, so a large backlog of abandoned entries does not starve new ones.
    for (let round = 0; round < 10 && !stopping; round++) {
      const [nextCursor, entries] = (await commands.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        cursor,
        'COUNT',
        batchSize,
      )) as AutoclaimReply
      const claimed = entries.filter((entry): entry is StreamEntry => entry !== null && entry[1] !== null)
      if (claimed.length > 0) {
        log.info({ ...context, count: claimed.length }, 'took over unacknowledged events')
        await handleEntries(claimed)
      }
      cursor = nextCursor
      if (cursor === '0-0') break
    }
  }

  /** The group's other consumers that hold nothing and stopped reading: gone processes. */
  async function forgetIdleConsumers(): Promise<void> {
    for (const { name, pending, idleMs } of await consumersOf(commands, stream, group)) {
      if (name !== consumer && pending === 0 && idleMs > forgetIdleConsumersMs) {
        await commands.xgroup('DELCONSUMER', stream, group, name)
        log.info({ ...context, removed: name, idleMs }, 'removed a consumer that stopped reading')
      }
    }
  }

  let nextClaimAt = 0
  /** One round: take over abandoned entries now and then, then read (blocking up to `blockMs`). */
  async function readRound(): Promise<boolean> {
    try {
      if (Date.now() >= nextClaimAt) {
        await claimAbandoned()
        await forgetIdleConsumers()
        nextClaimAt = Date.now() + claimIntervalMs
      }
      if (stopping) return false
      const reply = (await reader.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        batchSize,
        'BLOCK',
        blockMs,
        'STREAMS',
        stream,
        '>',
      )) as ReadReply
      for (const [, entries] of reply ?? []) await handleEntries(entries)
    } catch (error) {
      if (!errorMessage(error).startsWith('NOGROUP')) throw error
      // Redis lost the group (restarted without persistence, or flushed): whatever the stream
      // holds now arrived after the loss, so the recreated group starts from its beginning.
      log.warn({ ...context, code: 'subscriber_group_lost' }, 'subscriber group vanished from Redis; recreating it')
      await createGroup(commands, stream, group, '0')
    }
    // The read itself waits for entries: the next round follows at once.
    return true
  }

  const loop = startPollLoop({ name: `event stream subscriber ${group}`, log, pollIntervalMs: 0, step: readRound })
  return {
    async close() {
      stopping = true
      // Aborts a blocking read; entries Redis had already assigned stay pending and get claimed.
      const stopped = loop.stop()
      reader.disconnect()
      await stopped
      // Leaves the group unless it still holds entries (those stay pending for another consumer).
      const self = (await consumersOf(commands, stream, group).catch(() => [])).find((entry) => entry.name === consumer)
      if (self?.pending === 0) await commands.xgroup('DELCONSUMER', stream, group, consumer).catch(() => {})
      await closeRedis(commands)
    },
  }
}

async function createGroup(redis: Redis, stream: string, group: string, startId: '0' | '$'): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM')
  } catch (error) {
    // An existing group keeps its stored position: that is what lets a subscriber resume.
    if (!errorMessage(error).startsWith('BUSYGROUP')) throw error
  }
}

/** XINFO CONSUMERS: each consumer's name, pending count and milliseconds since it last read. */
async function consumersOf(redis: Redis, stream: string, group: string) {
  const reply = (await redis.xinfo('CONSUMERS', stream, group)) as (string | number)[][]
  return reply.map((entry) => {
    const fields = entry.map(String)
    return {
      name: fieldValue(fields, 'name') ?? '',
      pending: Number(fieldValue(fields, 'pending')),
      idleMs: Number(fieldValue(fields, 'idle')),
    }
  })
}

function fieldValue(fields: string[] | null, name: string): string | undefined {
  if (!fields) return undefined
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === name) return fields[index + 1]
  }
  return undefined
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
