import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { threadId } from 'node:worker_threads'
import { AppError } from '../src/errors.ts'
import { createWorkerPool } from '../src/worker-pool.ts'

type Task = { release?: Int32Array; fail?: boolean }
type Answer = { threadId: number }

const file = new URL('./fixtures/held-worker.ts', import.meta.url)
const held = () => new Int32Array(new SharedArrayBuffer(4))
const release = (flag: Int32Array) => {
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
}

describe('a worker pool', () => {
  const pools: { close(): Promise<void> }[] = []
  const pool = (options: { queueLimit?: number; taskTimeoutMs?: number; waitingPerKey?: number } = {}) => {
    const created = createWorkerPool<Task, Answer>({
      file,
      name: 'test',
      threads: 1,
      queueLimit: options.queueLimit ?? 2,
      taskTimeoutMs: options.taskTimeoutMs ?? 60_000,
      ...(options.waitingPerKey ? { waitingPerKey: options.waitingPerKey } : {}),
    })
    pools.push(created)
    return created
  }
  after(() => Promise.all(pools.map((created) => created.close())))

  it('runs the work on a thread of its own', async () => {
    const answer = await pool().run({})
    assert.notEqual(answer.threadId, threadId)
  })

  it('refuses 503 with Retry-After once its queue is full, and answers the queued tasks after', async () => {
    const testPool = pool({ queueLimit: 2 })
    const flag = held()
    const running = testPool.run({ release: flag })
    const queued = [testPool.run({}), testPool.run({})]
    assert.deepEqual(testPool.load(), { running: 1, waiting: 2 })
    await assert.rejects(testPool.run({}), (error: unknown) => {
      assert.ok(error instanceof AppError)
      assert.equal(error.statusCode, 503)
      assert.equal(error.code, 'service_unavailable')
      assert.equal(error.headers['retry-after'], '5')
      return true
    })
    release(flag)
    const answers = await Promise.all([running, ...queued])
    assert.equal(new Set(answers.map((answer) => answer.threadId)).size, 1)
    assert.deepEqual(testPool.load(), { running: 0, waiting: 0 })
  })

  it('keeps a place in its queue for others: a tenant, account or network holds at most its share of the waiting tasks', async () => {
    const testPool = pool({ queueLimit: 8, waitingPerKey: 2 })
    const flag = held()
    const running = testPool.run({ release: flag }, ['workspace:a', 'account:x', 'network:n1'])
    const refused = (error: unknown) => {
      assert.ok(error instanceof AppError)
      assert.equal(error.statusCode, 503)
      assert.equal(error.code, 'service_unavailable')
      assert.equal(error.headers['retry-after'], '5')
      return true
    }
    // One workspace fills its share; a third from it waits nowhere.
    const queued = [
      testPool.run({}, ['workspace:a', 'account:x', 'network:n1']),
      testPool.run({}, ['workspace:a', 'account:x', 'network:n1']),
    ]
    await assert.rejects(testPool.run({}, ['workspace:a', 'account:y', 'network:n2']), refused)
    // Several workspaces of one account, or several accounts of one network, share its share.
    await assert.rejects(testPool.run({}, ['workspace:b', 'account:x', 'network:n3']), refused)
    await assert.rejects(testPool.run({}, ['workspace:c', 'account:z', 'network:n1']), refused)
    // Everyone else still finds a place.
    queued.push(testPool.run({}, ['workspace:d', 'account:w', 'network:n4']))
    assert.deepEqual(testPool.load(), { running: 1, waiting: 3 })
    release(flag)
    await Promise.all([running, ...queued])
    // Their places are given back as their tasks leave the queue.
    const flagAgain = held()
    const again = testPool.run({ release: flagAgain }, ['workspace:a'])
    const twoMore = [testPool.run({}, ['workspace:a']), testPool.run({}, ['workspace:a'])]
    release(flagAgain)
    await Promise.all([again, ...twoMore])
  })

  it('ends a task past its time limit with its thread, and runs the next task on a new one', async () => {
    const testPool = pool({ taskTimeoutMs: 200 })
    const first = await testPool.run({})
    await assert.rejects(testPool.run({ release: held() }), (error: unknown) => {
      assert.ok(error instanceof AppError)
      assert.equal(error.statusCode, 503)
      return true
    })
    const next = await testPool.run({})
    assert.notEqual(next.threadId, first.threadId)
  })

  it('ends a thread whose module never finishes loading, past the load limit, and answers its task 503', async () => {
    const stuck = createWorkerPool<Task, Answer>({
      file: new URL('./fixtures/never-ready-worker.ts', import.meta.url),
      name: 'test',
      threads: 1,
      queueLimit: 2,
      taskTimeoutMs: 200,
      loadTimeoutMs: 200,
    })
    pools.push(stuck)
    await assert.rejects(stuck.run({}), (error: unknown) => error instanceof AppError && error.statusCode === 503)
    assert.deepEqual(stuck.load(), { running: 0, waiting: 0 })
  })

  it('rejects a task whose work throws, and keeps its thread for the next', async () => {
    const testPool = pool()
    const first = await testPool.run({})
    await assert.rejects(testPool.run({ fail: true }), /the work failed/)
    assert.equal((await testPool.run({})).threadId, first.threadId)
  })

  it('refuses every task once closed', async () => {
    const testPool = pool()
    await testPool.close()
    await assert.rejects(testPool.run({}), (error: unknown) => error instanceof AppError && error.statusCode === 503)
  })
})
