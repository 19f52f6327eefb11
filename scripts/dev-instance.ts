// What keeps two `pnpm dev` on one machine apart. Each one takes four ports (DEV_PORT_BASE, 3000
// unless set: web on it, auth, invitation and the dev IdP on the next three) and claims its Redis
// database (a key there, renewed while it runs): a second one that would share either stops before
// starting anything, and says how to run it beside the first.
import { connect } from 'node:net'

export function readPortBase(env: Record<string, string | undefined>): number {
  const raw = env.DEV_PORT_BASE
  if (raw === undefined || raw === '') return 3000
  const base = Number(raw)
  if (!Number.isInteger(base) || base < 1024 || base > 65532) {
    throw new Error(`DEV_PORT_BASE: "${raw}" is not a port from 1024 to 65532`)
  }
  return base
}

/**
 * The settings for another instance beside this one: the next ports when `portsTaken` (else the
 * same), another data folder and the next Redis database.
 */
export function sideBySideHint(portBase: number, redisUrl: URL, portsTaken: boolean): string {
  const otherBase = portsTaken ? portBase + 1000 : portBase
  const otherRedis = new URL(redisUrl)
  const database = Number(redisUrl.pathname.slice(1) || 0)
  otherRedis.pathname = `/${(database % 15) + 1}`
  return `To run another beside it: DEV_PORT_BASE=${otherBase} DATA_DIR=.data-${otherBase} REDIS_URL=${otherRedis.href} pnpm dev`
}

/** Whether something accepts connections on the port. */
export function answers(port: number, host: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, host)
    socket.once('connect', () => {
      socket.destroy()
      resolveAnswer(true)
    })
    socket.once('error', () => resolveAnswer(false))
  })
}

type Reply = string | number | null

/** Sends Redis commands on one connection (after AUTH and SELECT from the URL) and returns their replies. */
async function redisCommands(url: URL, commands: string[][]): Promise<Reply[]> {
  const prelude: string[][] = []
  if (url.password) prelude.push(url.username ? ['AUTH', url.username, url.password] : ['AUTH', url.password])
  const database = url.pathname.slice(1)
  if (database) prelude.push(['SELECT', database])
  const all = [...prelude, ...commands]
  const encoded = all
    .map(
      (command) =>
        `*${command.length}\r\n${command.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`,
    )
    .join('')
  return new Promise((resolveReplies, reject) => {
    const socket = connect(Number(url.port || 6379), url.hostname)
    let buffer = ''
    const replies: Reply[] = []
    socket.setTimeout(2_000, () => socket.destroy(new Error(`Redis at ${url.host} did not answer`)))
    socket.once('error', reject)
    socket.once('connect', () => socket.write(encoded))
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8')
      while (true) {
        const end = buffer.indexOf('\r\n')
        if (end < 0) return
        const type = buffer[0]
        const head = buffer.slice(1, end)
        if (type === '$') {
          const length = Number(head)
          if (length < 0) {
            replies.push(null)
            buffer = buffer.slice(end + 2)
          } else {
            if (buffer.length < end + 2 + length + 2) return
            replies.push(buffer.slice(end + 2, end + 2 + length))
            buffer = buffer.slice(end + 2 + length + 2)
          }
        } else if (type === '-') {
          socket.destroy()
          reject(new Error(`Redis at ${url.host}: ${head}`))
          return
        } else {
          replies.push(type === ':' ? Number(head) : head)
          buffer = buffer.slice(end + 2)
        }
        if (replies.length === all.length) {
          socket.destroy()
          resolveReplies(replies.slice(prelude.length))
          return
        }
      }
    })
  })
}

const claimKey = 'gatehouse:dev:instance'
const claimSeconds = 30

/** Whether a process of this machine is running (a claim's holder: claims here name their pid). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Claims the Redis database for this `pnpm dev` (its pid and data folder), renewed every 10 s.
 * Resolves with the releasing function, or with the other instance's pid and data folder when
 * one still running holds it.
 */
export async function claimRedis(
  url: URL,
  dataDir: string,
): Promise<{ release: () => Promise<void> } | { heldBy: { pid: number; dataDir: string } }> {
  const mine = `${process.pid} ${dataDir}`
  const [taken, holder] = await redisCommands(url, [
    ['SET', claimKey, mine, 'NX', 'EX', String(claimSeconds)],
    ['GET', claimKey],
  ])
  if (taken !== 'OK' && typeof holder === 'string' && holder !== mine) {
    const [pid = '0', ...folder] = holder.split(' ')
    // A claim whose process has gone (killed outright) is taken over rather than waited out.
    if (processIsAlive(Number(pid))) return { heldBy: { pid: Number(pid), dataDir: folder.join(' ') } }
    await redisCommands(url, [['SET', claimKey, mine, 'EX', String(claimSeconds)]])
  }
  const renewal = setInterval(() => {
    redisCommands(url, [['SET', claimKey, mine, 'XX', 'EX', String(claimSeconds)]]).catch(() => {})
  }, 10_000)
  renewal.unref()
  return {
    async release() {
      clearInterval(renewal)
      const [current] = await redisCommands(url, [['GET', claimKey]]).catch(() => [null])
      if (current === mine) await redisCommands(url, [['DEL', claimKey]]).catch(() => [])
    },
  }
}
