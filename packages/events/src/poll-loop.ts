export interface PollLoopOptions {
  /** One round of work; resolves whether more is waiting right now (it took a full batch). */
  step: () => Promise<boolean>
  /** The pause after a round that found little, unless `wake()` cuts it short. */
  pollIntervalMs: number
  /** Each failed round, with how many failed in a row. */
  onFailure: (error: unknown, failures: number) => void
  /** The first good round after `failures` failed ones. */
  onRecovery?: (failures: number) => void
}

export interface PollLoop {
  /** Run a round now: call after committing work for the loop. */
  wake(): void
  /** Finishes the round in progress; no round starts after. */
  stop(): Promise<void>
}

/** The pause after `failures` failed rounds in a row: 100 ms doubling to 2 s. */
export function backoffMs(failures: number): number {
  return Math.min(50 * 2 ** failures, 2_000)
}

/**
 * The loop behind every outbox pump (events to Redis, emails to their queue): rounds back to back
 * while there is a backlog, a pause between rounds otherwise (cut short by `wake()`), and after a
 * failure an exponential back-off that ignores `wake()`, so commits during an outage cannot turn
 * it into a busy loop.
 */
export function startPollLoop(options: PollLoopOptions): PollLoop {
  let stopping = false
  let wakeRequested = false
  let interruptPause: (() => void) | undefined

  function pause(milliseconds: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, milliseconds)
      function done() {
        clearTimeout(timer)
        interruptPause = undefined
        resolve()
      }
      interruptPause = () => {
        if (wakeable || stopping) done()
      }
    })
  }

  async function run(): Promise<void> {
    let failures = 0
    while (!stopping) {
      wakeRequested = false
      let more = false
      try {
        more = await options.step()
        if (failures > 0) options.onRecovery?.(failures)
        failures = 0
      } catch (error) {
        failures += 1
        options.onFailure(error, failures)
      }
      if (stopping) break
      if (failures > 0) await pause(backoffMs(failures), false)
      else if (!more && !wakeRequested) await pause(options.pollIntervalMs, true)
    }
  }

  const running = run()
  return {
    wake() {
      wakeRequested = true
      interruptPause?.()
    },
    async stop() {
      stopping = true
      interruptPause?.()
      await running
    },
  }
}
