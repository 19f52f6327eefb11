import { failureFields } from '@gatehouse/server/failures'
import { defaultLog, type EventsLog } from './log.ts'

export interface PollLoopOptions {
  /** One round of work; resolves whether more is waiting right now (it took a full batch). */
  step: () => Promise<boolean>
  /** The pause after a round that found little, unless `wake()` cuts it short. */
  pollIntervalMs: number
  /** What the loop does, as its log lines name it (`outbox relay`). */
  name: string
  log?: EventsLog
  /**
   * Failures in a row before the loop's first good round that are not worth a line: the
   * connections a process makes at start-up are still being made.
   */
  startupFailuresUnlogged?: number
  /** Each failed round, with how many failed in a row (a metrics counter). */
  onFailure?: (error: unknown, failures: number) => void
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
 * The one loop behind every background pump and reader (events to Redis, emails to their queue,
 * a stream's subscriber): rounds back to back while there is a backlog, a pause between rounds
 * otherwise (cut short by `wake()`), and after a failure an exponential back-off that ignores
 * `wake()`, so commits during an outage cannot turn it into a busy loop. A failing streak is
 * logged once with its `code` (again only if the code changes: Redis back, the database still
 * away), and its end once: an outage costs two lines, not one per round.
 */
export function startPollLoop(options: PollLoopOptions): PollLoop {
  const log = options.log ?? defaultLog
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
    let everSucceeded = false
    let loggedCode: string | undefined
    while (!stopping) {
      wakeRequested = false
      let more = false
      try {
        more = await options.step()
        if (failures > 0) options.onRecovery?.(failures)
        if (loggedCode !== undefined) log.info({ loop: options.name, failures }, `${options.name} working again`)
        failures = 0
        loggedCode = undefined
        everSucceeded = true
      } catch (error) {
        // A round cut short by stop() (its connections closed under it) is no failure.
        if (stopping) break
        failures += 1
        options.onFailure?.(error, failures)
        const fields = failureFields(error)
        const starting = !everSucceeded && failures < (options.startupFailuresUnlogged ?? 0)
        if (!starting && fields.code !== loggedCode) {
          loggedCode = fields.code
          log.warn({ loop: options.name, ...fields, failures }, `${options.name} failing; retrying with backoff`)
        }
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
