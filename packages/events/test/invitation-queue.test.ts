import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { redisUrl, uniqueSuffix } from '@gatehouse/testing'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { consumeInvitationEvents, type InvitationEvent } from '../src/index.ts'
import { publishToQueue } from '../src/invitation-queue.ts'
import { invitationAccepted, recordingLog } from './fixtures/sample-events.ts'
import { waitUntil } from './fixtures/wait-until.ts'

describe('invitation events queue', () => {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const queues: Queue[] = []
  after(async () => {
    for (const queue of queues) {
      await queue.obliterate({ force: true })
      await queue.close()
    }
    connection.disconnect()
  })

  function uniqueQueue(): Queue {
    const queue = new Queue(`test-invitation-events-${uniqueSuffix()}`, { connection })
    queues.push(queue)
    return queue
  }

  it('retries an event whose handler threw, with backoff, until it succeeds', async () => {
    const queue = uniqueQueue()
    const log = recordingLog()
    const event = invitationAccepted()
    const attempts: InvitationEvent[] = []
    const consumer = consumeInvitationEvents(
      { redisUrl, queue: queue.name, retryDelayMs: 20, log },
      async (received) => {
        attempts.push(received)
        if (attempts.length < 3) throw new Error('auth database unavailable')
      },
    )
    try {
      await publishToQueue(queue, [event])
      await waitUntil(async () => (await queue.getJobCountByTypes('completed')) === 1, 'the job completes')
      assert.deepEqual(attempts, [event, event, event])
      assert.equal(log.lines.filter((line) => line.message === 'invitation event handler failed').length, 2)
    } finally {
      await consumer.close()
    }
  })

  it('fails a job that is not an invitation event at once, without calling the handler', async () => {
    const queue = uniqueQueue()
    const log = recordingLog()
    const handled: InvitationEvent[] = []
    const consumer = consumeInvitationEvents({ redisUrl, queue: queue.name, log }, async (received) => {
      handled.push(received)
    })
    try {
      const job = await queue.add(
        'invitation.accepted',
        { ...invitationAccepted(), userId: 'not-a-uuid' },
        { attempts: 50 },
      )
      await waitUntil(async () => (await queue.getJobCountByTypes('failed')) === 1, 'the job fails')
      assert.equal((await queue.getJob(job.id ?? ''))?.attemptsMade, 1)
      assert.deepEqual(handled, [])
    } finally {
      await consumer.close()
    }
  })
})
