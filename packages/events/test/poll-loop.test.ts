import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { RedisUnavailableError } from '@gatehouse/server/redis'
import { startPollLoop } from '../src/index.ts'

/** A step whose rounds the test sees: each round emits `round` with its number. */
function recordedStep(outcomes: Array<'more' | 'done' | 'fail'>) {
  const rounds = new EventEmitter()
  let count = 0
  return {
    rounds,
    get count() {
      return count
    },
    /** Resolves once round `round` has started (at once if it has). */
    async reached(round: number) {
      while (count < round) await once(rounds, 'round')
    },
    async step() {
      count += 1
      const outcome = outcomes[Math.min(count, outcomes.length) - 1]
      rounds.emit('round', count)
      if (outcome === 'fail') throw new Error('redis is reconnecting')
      return outcome === 'more'
    },
  }
}

describe('the outbox pumps’ poll loop', () => {
  it('runs rounds back to back while there is a backlog, then waits for a wake', async () => {
    const recorded = recordedStep(['more', 'more', 'done'])
    const loop = startPollLoop({ name: 'test loop', step: recorded.step, pollIntervalMs: 60_000 })
    await recorded.reached(3)
    await nextTurn()
    assert.equal(recorded.count, 3)
    loop.wake()
    await recorded.reached(4)
    await loop.stop()
  })

  it('backs off after a failure and is not woken early by commits, then reports the recovery', async () => {
    const recorded = recordedStep(['fail', 'done'])
    const failures: number[] = []
    let recoveredAfter = 0
    const loop = startPollLoop({
      name: 'test loop',
      log: { info: () => {}, warn: () => {}, error: () => {} },
      step: recorded.step,
      pollIntervalMs: 60_000,
      onFailure: (_error, count) => failures.push(count),
      onRecovery: (count) => {
        recoveredAfter = count
      },
    })
    await recorded.reached(1)
    for (let commit = 0; commit < 50; commit++) loop.wake()
    await nextTurn()
    assert.equal(recorded.count, 1, 'a wake during back-off started a round')
    await recorded.reached(2)
    await nextTurn()
    assert.deepEqual(failures, [1])
    assert.equal(recoveredAfter, 1)
    await loop.stop()
  })

  it('stops during a pause without waiting it out', async () => {
    const recorded = recordedStep(['done'])
    const loop = startPollLoop({ name: 'test loop', step: recorded.step, pollIntervalMs: 60_000 })
    await recorded.reached(1)
    await loop.stop()
    assert.equal(recorded.count, 1)
  })

  it('logs a failing streak once with its code, again when the code changes, and its end once', async () => {
    const errors = [
      new RedisUnavailableError('redis is reconnecting'),
      new RedisUnavailableError('redis is reconnecting'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ]
    let round = 0
    const lines: Array<{ level: string; message: string; code?: unknown }> = []
    const record = (level: string) => (details: Record<string, unknown>, message: string) =>
      lines.push({ level, message, code: details.code })
    const done = new EventEmitter()
    const loop = startPollLoop({
      name: 'test loop',
      log: { info: record('info'), warn: record('warn'), error: record('error') },
      pollIntervalMs: 60_000,
      async step() {
        const error = errors[round++]
        if (error) throw error
        done.emit('done')
        return false
      },
    })
    await once(done, 'done')
    await loop.stop()
    assert.deepEqual(lines, [
      { level: 'warn', message: 'test loop failing; retrying with backoff', code: 'redis_unavailable' },
      { level: 'warn', message: 'test loop failing; retrying with backoff', code: 'database_unavailable' },
      { level: 'info', message: 'test loop working again', code: undefined },
    ])
  })
})
