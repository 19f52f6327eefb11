// The subscriber side of the fan-out benchmark, in its own process as subscriber services are:
// argv is the Redis URL, the stream, the number of events to expect and the group names. Prints
// `ready`, then one JSON line per group once it has the expected number of events.
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { subscribe } from '../../packages/events/src/index.ts'

const [redisUrl, stream, expectedText, ...groups] = process.argv.slice(2)
const expected = Number(expectedText)
if (!redisUrl || !stream || !Number.isInteger(expected) || groups.length === 0) {
  throw new Error('usage: events-subscribers <redis> <stream> <count> <group>...')
}
const log = {
  info: () => {},
  warn: () => {},
  error: (details: object, message: string) => console.error(message, details),
}

const subscriptions = await Promise.all(
  groups.map(async (group) => {
    const ids: string[] = []
    let reported = false
    const subscription = await subscribe({ redisUrl, stream, group, from: 'start', log }, async (event) => {
      ids.push(event.id)
      if (ids.length >= expected && !reported) {
        reported = true
        const lastAt = performance.timeOrigin + performance.now()
        const distinct = [...new Set(ids)].sort()
        const digest = createHash('sha256').update(distinct.join('\n')).digest('hex')
        process.stdout.write(
          `${JSON.stringify({ group, received: ids.length, distinct: distinct.length, digest, lastAt })}\n`,
        )
      }
    })
    return subscription
  }),
)
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', async () => {
  await Promise.all(subscriptions.map((subscription) => subscription.close()))
  process.exit(0)
})
