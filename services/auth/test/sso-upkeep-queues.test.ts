import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRedis } from '@gatehouse/server/redis'
import { eventually } from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { unusedRedisDatabaseUrl } from '../../../test/support/redis-database.ts'
import { ssoUpkeepJobs } from '../src/sso/upkeep.ts'
import { removeQueue, startAuthApp } from './harness.ts'

describe('the SSO upkeep of test apps', () => {
  it("runs on a queue of each app's own: another app's worker never takes its jobs", async () => {
    // Two apps on one Redis database, as every test file's apps share one (each file a Postgres
    // database of its own, which a run taken by another file's worker would miss).
    const redisUrl = await unusedRedisDatabaseUrl()
    const first = await startAuthApp({ REDIS_URL: redisUrl })
    const second = await startAuthApp({ REDIS_URL: redisUrl })
    const redis = createRedis(redisUrl)
    const firstQueue = new Queue(first.ssoUpkeepQueue, { connection: redis })
    const secondQueue = new Queue(second.ssoUpkeepQueue, { connection: redis })
    try {
      // The first app gone, a run put on its queue waits: only the second app's worker is left.
      await first.close()
      const stranded = await firstQueue.add(ssoUpkeepJobs.certificateExpiry, {})
      // The second app's own run, put after it, is taken (one run at a time, the oldest first on a
      // shared queue): its worker is up, and would have taken the stranded run before.
      const own = await secondQueue.add(ssoUpkeepJobs.certificateExpiry, {})
      await eventually('the second app runs its own upkeep', async () =>
        (await own.getState()) === 'completed' ? true : undefined,
      )
      assert.equal(await stranded.getState(), 'waiting')
    } finally {
      await firstQueue.close()
      await secondQueue.close()
      await second.close()
      await removeQueue(redisUrl, first.ssoUpkeepQueue)
      redis.disconnect()
    }
  })
})
