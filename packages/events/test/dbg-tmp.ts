import { redisUrl } from '@gatehouse/testing'
import { consumeInvitationEvents, startOutboxRelay, writeEvent } from '../src/index.ts'
import { createOutboxDatabase } from './fixtures/outbox-database.ts'
import { invitationAccepted } from './fixtures/sample-events.ts'

const log = { info: console.log, warn: console.log, error: console.log }
const database = await createOutboxDatabase('postgres')
const relay = startOutboxRelay({ db: database.db, table: database.table, redisUrl, queueName: 'dbg-q', log })
let n = 0
const consumer = consumeInvitationEvents({ redisUrl, queue: 'dbg-q', concurrency: 8, log }, async () => {
  n++
})
for (let i = 0; i < 3; i++) {
  await database.db.transaction((tx) => writeEvent(tx, database.table, invitationAccepted()))
  relay.wake()
  await new Promise((r) => setTimeout(r, 300))
  console.log('received', n, 'unpublished', (await database.unpublishedIds()).length)
}
await consumer.close()
await relay.stop()
await database.close()
