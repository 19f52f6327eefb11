import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
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
    const loop = startPollLoop({ step: recorded.step, pollIntervalMs: 60_000, onFailure: () => {} })
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
    const loop = startPollLoop({ step: recorded.step, pollIntervalMs: 60_000, onFailure: () => {} })
    await recorded.reached(1)
    await loop.stop()
    assert.equal(recorded.count, 1)
  })
})
