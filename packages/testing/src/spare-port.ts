import { once } from 'node:events'
import { createServer } from 'node:net'

/**
 * A TCP port nothing listens on right now, for a process a test starts (a Redis, a service), so
 * tests never collide with each other or with fixed ports of a development stack.
 */
export async function sparePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('the OS gave no port')
  return address.port
}
