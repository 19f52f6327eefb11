// The hostile side of metadata.bench.ts, in a process of its own so that building and sending
// its bodies never delays the bystander's timings: 4 clients each PUT hostile metadata as fast as
// they are answered, from the `parsed` accounts or the `refused` ones as the parent says (the
// phase's name); "pause" holds them, "stop" reports the answers per phase and exits.
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { costliestAllowedMetadata, hostileMetadata } from '@gatehouse/saml/hostile-metadata'

type Account = { url: string; cookie: string; changesLeft: number }
type Phase = 'parsed' | 'refused'
const accounts: Record<Phase, Account[]> = JSON.parse(process.env.UPLOADERS ?? '{"parsed":[],"refused":[]}')
const entraMetadata = readFileSync(
  new URL('../fixtures/entra/ssoready-2023.federation-metadata.xml', import.meta.url),
  'utf8',
)
const bodies = [...costliestAllowedMetadata(entraMetadata), ...hostileMetadata(entraMetadata)].map(({ metadataXml }) =>
  Buffer.from(JSON.stringify({ metadataXml })),
)
const agent = new Agent({ keepAlive: true })
const statuses: Record<Phase, Record<number, number>> = { parsed: {}, refused: {} }
let state: Phase | 'pause' | 'stop' = 'pause'
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
    for (let turn = client; state !== 'stop'; turn += 4) {
      const phase = state
      if (phase === 'pause') {
        await new Promise<void>((resolve) => waiting.add(resolve))
        continue
      }
      const own = accounts[phase].filter((_, index) => index % 4 === client)
      // Past an account's hourly changes, its client goes on being refused.
      const account = own.find((candidate) => candidate.changesLeft > 0) ?? own[turn % own.length]
      if (!account) return
      account.changesLeft--
      const status = await put(account.url, account.cookie, bodies[turn % bodies.length] as Buffer)
      statuses[phase][status] = (statuses[phase][status] ?? 0) + 1
    }
  }),
)
agent.destroy()
process.send?.(statuses, () => process.disconnect?.())
