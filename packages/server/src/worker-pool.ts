import { setPriority } from 'node:os'
import { parentPort, Worker } from 'node:worker_threads'
import { errors } from './errors.ts'

/**
 * CPU-bound work on input anyone may send (an uploaded document to parse) runs off the event
 * loop, on a few threads with a queue of bounded length: the loop keeps answering everyone else
 * while it runs, and a flood of such work is answered 503 with Retry-After once the queue is full
 * instead of piling up. The threads run at a lower CPU priority, so on a busy machine sign-ins
 * and page loads come first.
 */
export interface WorkerPoolOptions {
  /** The worker's module: it calls `serveWorkerTasks`. */
  file: URL
  /** Names the pool in logs and refusals. */
  name: string
  threads: number
  /** Tasks that may wait for a thread; one more is refused. */
  queueLimit: number
  /**
   * Tasks that may wait for a thread under any one admission key a task names (its workspace, its
   * account, its network): one client, or one attacker with several self-registered workspaces or
   * accounts, can hold at most this many of the `queueLimit` places, so others still find one.
   * Default: `queueLimit` (no per-key share).
   */
  waitingPerKey?: number
  /** A task still running after this is ended with its thread (a new one starts for the next). */
  taskTimeoutMs: number
  /**
   * A new thread not ready after this (its module hangs while loading) is ended with the task it
   * was given, which would otherwise wait forever with every task queued behind it. Default 60 s:
   * loading takes seconds on a busy machine.
   */
  loadTimeoutMs?: number
  /** What a refused task's Retry-After says. */
  retryAfterSeconds?: number
  /** Told when a thread fails (its module did not load, it crashed): the task was answered 503. */
  onThreadError?: (error: Error) => void
}

export interface WorkerPool<Input, Output> {
  /** `keys`: who the task is for (e.g. `workspace:<id>`, `account:<id>`, `network:<prefix>`), for `waitingPerKey`. */
  run(input: Input, keys?: readonly string[]): Promise<Output>
  /** Tasks running and waiting. */
  load(): { running: number; waiting: number }
  close(): Promise<void>
}

interface Task<Input, Output> {
  input: Input
  keys: readonly string[]
  resolve(output: Output): void
  reject(error: Error): void
}

interface Thread {
  worker: Worker
  busy: boolean
  /**
   * Its module and everything it imports have loaded (it said so): a task's time counts from then.
   * Loading takes a few 100 ms, and seconds on a busy machine or under a TypeScript loader.
   */
  ready: boolean
}

type Answer<Output> = { ok: true; output: Output } | { ok: false; message: string }

/** A thread's first message: its module has loaded. */
const readyMessage = { ready: true }

export function createWorkerPool<Input, Output>(options: WorkerPoolOptions): WorkerPool<Input, Output> {
  const threads: Thread[] = []
  const waiting: Task<Input, Output>[] = []
  /** Waiting tasks per admission key (a key leaves the map when its last task leaves the queue). */
  const waitingByKey = new Map<string, number>()
  const waitingPerKey = options.waitingPerKey ?? options.queueLimit
  let closed = false

  function countWaiting(keys: readonly string[], change: 1 | -1) {
    for (const key of keys) {
      const count = (waitingByKey.get(key) ?? 0) + change
      if (count > 0) waitingByKey.set(key, count)
      else waitingByKey.delete(key)
    }
  }

  function takeNext(): Task<Input, Output> {
    const task = waiting.shift() as Task<Input, Output>
    countWaiting(task.keys, -1)
    return task
  }

  function startThread(): Thread {
    const thread: Thread = { worker: new Worker(options.file), busy: false, ready: false }
    thread.worker.once('message', () => {
      thread.ready = true
    })
    // An idle pool never holds the process open.
    thread.worker.unref()
    thread.worker.on('error', (error) => {
      retire(thread)
      options.onThreadError?.(error instanceof Error ? error : new Error(String(error)))
    })
    thread.worker.on('exit', () => retire(thread))
    threads.push(thread)
    return thread
  }

  function retire(thread: Thread) {
    const index = threads.indexOf(thread)
    if (index !== -1) threads.splice(index, 1)
  }

  function dispatch() {
    while (!closed && waiting.length > 0) {
      const thread =
        threads.find((candidate) => !candidate.busy) ?? (threads.length < options.threads ? startThread() : undefined)
      if (thread === undefined) return
      runOn(thread, takeNext())
    }
  }

  function runOn(thread: Thread, task: Task<Input, Output>) {
    thread.busy = true
    const { worker } = thread
    worker.ref()
    let timer: NodeJS.Timeout | undefined
    const finish = (settle: () => void) => {
      clearTimeout(timer)
      worker.off('message', begin)
      worker.off('message', answered)
      worker.off('exit', died)
      worker.unref()
      thread.busy = false
      settle()
      dispatch()
    }
    const answered = (answer: Answer<Output>) =>
      finish(() => (answer.ok ? task.resolve(answer.output) : task.reject(new Error(answer.message))))
    const died = () => finish(() => task.reject(errors.unavailable('This is unavailable for a moment. Try again.')))
    const startTimer = (ms: number) => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        retire(thread)
        void worker.terminate()
        finish(() => task.reject(errors.unavailable(`The ${options.name} took too long. Try again.`)))
      }, ms)
    }
    const begin = () => {
      startTimer(options.taskTimeoutMs)
      worker.on('message', answered)
    }
    // A new thread's first message says it is ready; the task's answer follows.
    if (thread.ready) begin()
    else {
      startTimer(options.loadTimeoutMs ?? 60_000)
      worker.once('message', begin)
    }
    worker.once('exit', died)
    worker.postMessage(task.input)
  }

  return {
    run(input, keys = []) {
      if (closed) return Promise.reject(errors.unavailable('This service is stopping.'))
      const idle = threads.some((thread) => !thread.busy) || threads.length < options.threads
      const refuse = (message: string) => {
        const refusal = errors.unavailable(message)
        refusal.headers['retry-after'] = String(options.retryAfterSeconds ?? 5)
        return Promise.reject(refusal)
      }
      if (!idle && waiting.length >= options.queueLimit) {
        return refuse(`Too many ${options.name} requests are waiting. Try again in a moment.`)
      }
      if (!idle && keys.some((key) => (waitingByKey.get(key) ?? 0) >= waitingPerKey)) {
        return refuse(`Your earlier ${options.name} requests are still waiting. Try again in a moment.`)
      }
      return new Promise<Output>((resolve, reject) => {
        waiting.push({ input, keys, resolve, reject })
        countWaiting(keys, 1)
        dispatch()
      })
    },
    load() {
      return { running: threads.filter((thread) => thread.busy).length, waiting: waiting.length }
    },
    async close() {
      closed = true
      waitingByKey.clear()
      for (const task of waiting.splice(0)) task.reject(errors.unavailable('This service is stopping.'))
      await Promise.all(threads.splice(0).map((thread) => thread.worker.terminate()))
    },
  }
}

/**
 * The worker's side: answers each task with `work(input)`. An exception becomes a rejection
 * whose message only the parent's log sees; expected refusals are part of `Output`.
 */
export function serveWorkerTasks<Input, Output>(work: (input: Input) => Output): void {
  if (parentPort === null) throw new Error('serveWorkerTasks runs in a worker thread')
  const port = parentPort
  // Linux gives each thread its own nice value (setpriority(2), BUGS): this lowers this thread only.
  try {
    setPriority(10)
  } catch {
    // Not permitted or not supported: the work still runs, at the process's priority.
  }
  port.postMessage(readyMessage)
  port.on('message', (input: Input) => {
    let answer: Answer<Output>
    try {
      answer = { ok: true, output: work(input) }
    } catch (error) {
      answer = { ok: false, message: error instanceof Error ? error.message : String(error) }
    }
    port.postMessage(answer)
  })
}
