import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRedis } from '@gatehouse/server/redis'
import { redisUrl } from '@gatehouse/testing'
import { processIsAlive } from '../../scripts/dev-instance.ts'

/** Deletes every key matching `pattern` (SCAN, never KEYS: the shared Redis stays responsive). */
export async function removeKeys(redis: ReturnType<typeof createRedis>, pattern: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5_000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
}

const silentLog = { info: () => {}, warn: () => {}, error: () => {} }

// Test files run in parallel and pick their databases at the same moment: seeing no client on a
// database is not enough (two files may both pick it, and one's consumers then take the other's
// events). A file claims its database with SET NX in database 0 and keeps the claim alive while it
// runs; the claim of a file that has ended is taken over at once (below), and lapses within a minute
// in any case.
const claimSeconds = 60
const claimedDatabases = new Map<number, string>()

// More test files may want a database at once than Redis has (15 besides 0): the later ones wait
// for one to be given back rather than fail.
const waitForDatabaseMs = 5 * 60_000

/** One of Redis's numbered databases that no connected client has selected, claimed for this process. */
export async function unusedRedisDatabaseUrl(): Promise<string> {
  const giveUpAt = Date.now() + waitForDatabaseMs
  for (;;) {
    const url = await claimUnusedRedisDatabase()
    if (url) return url
    if (Date.now() > giveUpAt)
      throw new Error('every Redis database 1-15 stayed in use or claimed by other test files for 5 minutes')
    await sleep(1_000)
  }
}

async function claimUnusedRedisDatabase(): Promise<string | undefined> {
  const probe = createRedis(redisUrl, { role: 'waiting', log: silentLog, name: 'redis-database-probe' })
  try {
    const clients = String(await probe.call('CLIENT', 'LIST'))
    const inUse = new Set([...clients.matchAll(/\bdb=(\d+)/g)].map((match) => Number(match[1])))
    const free = Array.from({ length: 15 }, (_, index) => index + 1)
      .filter((database) => !inUse.has(database))
      .sort(() => Math.random() - 0.5)
    for (const database of free) {
      const url = new URL(redisUrl)
      url.pathname = `/${database}`
      if (claimedDatabases.has(database)) return url.href // this process's own claim
      const key = `gatehouse:test:redis-database:${database}`
      if (!(await claim(probe, key))) continue
      claimedDatabases.set(database, key)
      keepClaims()
      // Whatever the database's last holder left (keys still alive) is not this file's.
      const fresh = createRedis(url.href, { role: 'waiting', log: silentLog, name: 'redis-database-flush' })
      try {
        await fresh.flushdb()
      } finally {
        fresh.disconnect()
      }
      return url.href
    }
    return undefined
  } finally {
    probe.disconnect()
  }
}

// Takes over a claim whose file has ended (its process, on this machine, is gone) instead of
// waiting out the minute. A claim names its holder as host:pid: one made from another machine
// sharing this Redis is never taken. GET and SET in one script, so two files cannot both.
const takeOverScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end`
const claimant = `${hostname()}:${process.pid}`

async function claim(probe: ReturnType<typeof createRedis>, key: string): Promise<boolean> {
  if ((await probe.set(key, claimant, 'EX', claimSeconds, 'NX')) === 'OK') return true
  const holder = await probe.get(key)
  const [holderHost, holderPid] = holder?.split(':') ?? []
  if (holder === null || holderHost !== hostname() || processIsAlive(Number(holderPid))) return false
  return (await probe.eval(takeOverScript, 1, key, holder, claimant, claimSeconds)) === 'OK'
}

let renewing = false
function keepClaims(): void {
  if (renewing) return
  renewing = true
  setInterval(
    () => {
      const keeper = createRedis(redisUrl, { role: 'waiting', log: silentLog, name: 'redis-database-claims' })
      Promise.all([...claimedDatabases.values()].map((key) => keeper.expire(key, claimSeconds)))
        .catch(() => {})
        .finally(() => keeper.disconnect())
    },
    (claimSeconds * 1000) / 3,
  ).unref()
}
