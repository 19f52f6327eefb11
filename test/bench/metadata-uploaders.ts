// The hostile side of metadata.bench.ts, in a process of its own so that building and sending
// its bodies never delays the bystander's timings: 4 clients each PUT hostile metadata as fast as
// they are answered, while the parent says "go"; "pause" holds them, "stop" reports and exits.
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { costliestAllowedMetadata, hostileMetadata } from '@gatehouse/saml/hostile-metadata'

const accounts: { url: string; cookie: string; changesLeft: number }[] = JSON.parse(process.env.UPLOADERS ?? '[]')
const entraMetadata = readFileSync(
  new URL('../fixtures/entra/ssoready-2023.federation-metadata.xml', import.meta.url),
  'utf8',
)
const bodies = [...costliestAllowedMetadata(entraMetadata), ...hostileMetadata(entraMetadata)].map(({ metadataXml }) =>
  Buffer.from(JSON.stringify({ metadataXml })),
)
const agent = new Agent({ keepAlive: true })
const statuses: Record<number, number> = {}
let state: 'go' | 'pause' | 'stop' = 'pause'
const waiting = new Set<() => void>()
process.on('message', (message: typeof state) => {
  state = message
  for (const resume of waiting) resume()
  waiting.clear()
})

function put(url: string, cookie: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const outgoing = request(
      url,
      { method: 'PUT', agent, headers: { 'content-type': 'application/json', cookie, 'content-length': body.length } },
      (incoming) => {
        incoming.resume()
        incoming.on('end', () => resolve(incoming.statusCode ?? 0))
      },
    )
    // A body refused before it is read may end in a reset: that is an answer too.
    outgoing.on('error', () => resolve(0))
    outgoing.end(body)
  })
}

await Promise.all(
  Array.from({ length: 4 }, async (_, client) => {
    const own = accounts.filter((_, index) => index % 4 === client)
    for (let turn = client; state !== 'stop'; turn += 4) {
      if (state === 'pause') {
        await new Promise<void>((resolve) => waiting.add(resolve))
        continue
      }
      // Past an account's hourly changes, its client goes on being refused.
      const account = own.find((candidate) => candidate.changesLeft > 0) ?? own[0]
      if (!account) return
      account.changesLeft--
      const status = await put(account.url, account.cookie, bodies[turn % bodies.length] as Buffer)
      statuses[status] = (statuses[status] ?? 0) + 1
    }
  }),
)
agent.destroy()
process.send?.(statuses, () => process.disconnect())
