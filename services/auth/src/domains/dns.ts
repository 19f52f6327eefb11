import { Resolver } from 'node:dns/promises'

/** The TXT strings published at a name (each record's chunks joined, RFC 7208 §3.3 style). */
export type TxtLookup = (name: string) => Promise<TxtAnswer>
export type TxtAnswer = { found: true; records: string[] } | { found: false; reason: 'no_record' | 'lookup_failed' }

// Names that do not exist or hold no TXT: an answer, not a failure of the lookup.
const absentCodes = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN'])

/**
 * TXT lookups through `servers` (the system's when empty), each bounded by `timeoutMs` and two
 * tries, so a verify request never waits on a silent resolver for longer than that.
 */
export function createTxtLookup(options: { servers: string[]; timeoutMs?: number }): TxtLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 1000, tries: 2 })
  if (options.servers.length > 0) resolver.setServers(options.servers)
  return async (name) => {
    try {
      const records = await resolver.resolveTxt(name)
      return { found: true, records: records.map((chunks) => chunks.join('')) }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      return { found: false, reason: absentCodes.has(code) ? 'no_record' : 'lookup_failed' }
    }
  }
}
