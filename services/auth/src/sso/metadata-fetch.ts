// Fetches an IdP's federation metadata from the URL a tenant's admin typed, without letting that URL
// reach anything but a public web server (server-side request forgery: the cloud metadata service at
// 169.254.169.254, Redis or Postgres on loopback, the cluster's private network). The host is
// resolved here, every address it resolves to is checked, and the connection is made to the checked
// address itself, so a second DNS answer (rebinding) cannot move it. Redirects are not followed at
// all: the IdPs' metadata URLs (Entra's App Federation Metadata Url, Okta's, Google's) answer
// directly, and a redirect is the usual way around an address check.
import { Resolver, lookup as systemLookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net'
import { METADATA_XML_LIMITS } from '@gatehouse/saml'
import { ReasonedError } from '@gatehouse/server/errors'

/** Why a fetch was refused or failed; each says what the admin can do. */
export type MetadataFetchReason =
  | 'invalid_url'
  | 'address_refused'
  | 'dns_failed'
  | 'unreachable'
  | 'redirect'
  | 'http_status'
  | 'too_large'
  | 'timeout'

/**
 * Answered to an admin as 400 `invalid_metadata_url` with this `reason` (connections.ts); recorded
 * by a refresh as the connection's metadata problem (metadata-refresh.ts).
 */
export class MetadataFetchError extends ReasonedError<MetadataFetchReason> {
  override readonly name = 'MetadataFetchError'
}

export interface MetadataFetchOptions {
  /** `DNS_SERVERS`: the resolvers asked; empty means the system's (getaddrinfo, /etc/hosts included). */
  dnsServers: string[]
  /** Development only: plain http to a loopback address (the dev IdP on 127.0.0.1). */
  allowLoopbackHttp: boolean
  /** Bytes read at most: the same bound as an uploaded metadata file. */
  maxBytes?: number
  /** The whole fetch, DNS included. */
  timeoutMs?: number
}

export type MetadataFetcher = (url: string) => Promise<string>

export const metadataFetchTimeoutMs = 10_000

// Addresses no tenant's URL may reach (RFC 6890's special-purpose registries, the ones that are not
// the public internet): unspecified, "this network", private, shared (CGNAT), loopback, link-local
// (cloud metadata services), the 6to4 relay anycast, benchmarking, documentation, multicast and reserved.
const refusedV4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const
// IPv6: only global unicast (2000::/3) is the public internet, less its special-purpose blocks:
// IETF protocol assignments (Teredo among them), documentation (2001:db8::/32, 3fff::/20) and 6to4
// (2002::/16, which carries an IPv4 address a relay would reach). Everything outside 2000::/3 —
// loopback, unique-local, link-local, multicast, the local-use NAT64 prefix 64:ff9b:1::/48, the
// IPv4-translated ::ffff:0:0:0/96 — is refused. IPv4-mapped (::ffff:0:0/96) and well-known NAT64
// (64:ff9b::/96) addresses are judged by the IPv4 address they carry.
const refusedV6 = [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
] as const

const refused = new BlockList()
for (const [network, prefix] of refusedV4) refused.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of refusedV6) refused.addSubnet(network, prefix, 'ipv6')
const globalUnicastV6 = new BlockList()
globalUnicastV6.addSubnet('2000::', 3, 'ipv6')

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

/** The IPv4 address an IPv4-mapped or NAT64 IPv6 address carries, else null. */
function embeddedIpv4(address: string): string | null {
  const hex = new URL(`http://[${address}]`).hostname.slice(1, -1)
  const match = hex.match(/^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/)
  if (!match) return null
  const [high, low] = [Number.parseInt(match[1] ?? '0', 16), Number.parseInt(match[2] ?? '0', 16)]
  return [high >> 8, high & 255, low >> 8, low & 255].join('.')
}

/** Whether `address` is on loopback (127/8, ::1, or loopback IPv4 mapped into IPv6). */
export function isLoopbackAddress(address: string): boolean {
  if (isIPv4(address)) return loopback.check(address, 'ipv4')
  if (!isIPv6(address) || address.includes('%')) return false
  const carried = embeddedIpv4(address)
  return carried ? loopback.check(carried, 'ipv4') : loopback.check(address, 'ipv6')
}

/** Whether a tenant's URL may reach `address`: only the public internet. */
export function isPublicAddress(address: string): boolean {
  if (isIPv4(address)) return !refused.check(address, 'ipv4')
  // A scoped address (fe80::1%eth0) or anything else that is not a plain IPv6 address is not public.
  if (!isIPv6(address) || address.includes('%')) return false
  const carried = embeddedIpv4(address)
  if (carried) return isPublicAddress(carried)
  return globalUnicastV6.check(address, 'ipv6') && !refused.check(address, 'ipv6')
}

/** The URL an admin may give, or a `MetadataFetchError('invalid_url')` saying why not. */
export function metadataUrlOf(text: string, allowLoopbackHttp: boolean): URL {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new MetadataFetchError('invalid_url', 'Enter the full metadata URL, starting with https://.')
  }
  if (url.username || url.password) {
    throw new MetadataFetchError('invalid_url', 'The metadata URL must not carry a user name or password.')
  }
  if (url.protocol === 'http:' && !allowLoopbackHttp) {
    throw new MetadataFetchError('invalid_url', 'The metadata URL must start with https://.')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new MetadataFetchError('invalid_url', 'The metadata URL must start with https://.')
  }
  url.hash = ''
  return url
}

function refusedAddress(): MetadataFetchError {
  return new MetadataFetchError(
    'address_refused',
    "The metadata URL's host is not a public internet address (private, loopback, link-local and similar addresses are refused). Give the identity provider's public metadata URL.",
  )
}

/**
 * A fetcher bounded in every way a hostile URL could hurt: scheme, addresses (after resolution),
 * redirects (none), bytes (the metadata upload bound) and total time.
 */
export function createMetadataFetcher(options: MetadataFetchOptions): MetadataFetcher {
  const maxBytes = options.maxBytes ?? METADATA_XML_LIMITS.bytes
  const timeoutMs = options.timeoutMs ?? metadataFetchTimeoutMs
  const resolver = options.dnsServers.length > 0 ? new Resolver({ timeout: 1000, tries: 2 }) : null
  if (resolver) resolver.setServers(options.dnsServers)

  async function addressesOf(hostname: string): Promise<string[]> {
    if (isIP(hostname)) return [hostname]
    try {
      if (!resolver) return (await systemLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address)
      const answers = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)])
      const found = answers.flatMap((answer) => (answer.status === 'fulfilled' ? answer.value : []))
      if (found.length > 0) return found
    } catch {
      // Reported below, as for a name with no address.
    }
    throw new MetadataFetchError('dns_failed', `The host ${hostname} of the metadata URL could not be found.`)
  }

  /** The one address to connect to, every address of the host having been checked. */
  async function checkedAddress(url: URL): Promise<string> {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const addresses = await addressesOf(hostname)
    const plainHttp = url.protocol === 'http:'
    // Plain http (development only) goes to loopback alone; https to public addresses alone. A host
    // with one refused address among public ones is refused: which one is used is not ours to pick.
    const allowed = plainHttp ? addresses.every(isLoopbackAddress) : addresses.every(isPublicAddress)
    const [address] = addresses
    if (!allowed || address === undefined) {
      if (plainHttp) throw new MetadataFetchError('invalid_url', 'The metadata URL must start with https://.')
      throw refusedAddress()
    }
    return address
  }

  function get(url: URL, address: string, signal: AbortSignal): Promise<string> {
    const family = isIPv4(address) ? 4 : 6
    return new Promise<string>((resolve, reject) => {
      // Our own refusal, when we cut the connection: the errors the cut then raises do not replace it.
      let refusal: MetadataFetchError | undefined
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        {
          method: 'GET',
          agent: false,
          signal,
          headers: {
            accept: 'application/samlmetadata+xml, application/xml, text/xml',
            'accept-encoding': 'identity',
            'user-agent': 'Gatehouse IdP metadata refresh',
          },
          // The connection goes to the address checked above, whatever DNS answers now; the TLS
          // name and Host header stay the URL's host, so the certificate is checked against it.
          lookup: (_hostname, lookupOptions, callback) => {
            if ((lookupOptions as { all?: boolean }).all) callback(null, [{ address, family }])
            else (callback as (error: null, address: string, family: number) => void)(null, address, family)
          },
        },
        (response) => read(response).then(resolve, reject),
      )
      request.on('error', (error) => {
        reject(
          (refusal ?? error instanceof MetadataFetchError)
            ? (refusal ?? error)
            : signal.aborted
              ? timedOut()
              : new MetadataFetchError('unreachable', `The metadata URL could not be read: ${error.message}.`),
        )
      })
      request.end()

      function read(response: IncomingMessage): Promise<string> {
        return new Promise<string>((resolveBody, rejectBody) => {
          const fail = (error: MetadataFetchError) => {
            refusal = error
            response.destroy()
            request.destroy(error)
            rejectBody(error)
          }
          const status = response.statusCode ?? 0
          if (status >= 300 && status < 400) {
            return fail(
              new MetadataFetchError(
                'redirect',
                `The metadata URL answered with a redirect (HTTP ${status}); redirects are not followed. Give the URL it redirects to, if that is the identity provider's.`,
              ),
            )
          }
          if (status !== 200) {
            return fail(
              new MetadataFetchError('http_status', `The metadata URL answered HTTP ${status}, not the metadata.`),
            )
          }
          const declared = Number(response.headers['content-length'] ?? 0)
          if (declared > maxBytes) return fail(tooLarge(maxBytes))
          const chunks: Buffer[] = []
          let received = 0
          response.on('data', (chunk: Buffer) => {
            received += chunk.length
            if (received > maxBytes) return fail(tooLarge(maxBytes))
            chunks.push(chunk)
          })
          response.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')))
          const cut = () => rejectBody(refusal ?? (signal.aborted ? timedOut() : interrupted()))
          response.on('error', cut)
          response.on('aborted', cut)
        })
      }
    })
  }

  function timedOut() {
    return new MetadataFetchError(
      'timeout',
      `The metadata URL did not answer with the whole document within ${Math.round(timeoutMs / 1000) || 1} s.`,
    )
  }

  return async (text) => {
    const url = metadataUrlOf(text, options.allowLoopbackHttp)
    const controller = new AbortController()
    const deadline = setTimeout(() => controller.abort(), timeoutMs)
    try {
      const address = await Promise.race([
        checkedAddress(url),
        new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(timedOut()))),
      ])
      return await get(url, address, controller.signal)
    } finally {
      clearTimeout(deadline)
    }
  }
}

function tooLarge(maxBytes: number) {
  return new MetadataFetchError('too_large', `The metadata is larger than ${Math.round(maxBytes / 1024)} KiB.`)
}

function interrupted() {
  return new MetadataFetchError('unreachable', 'The metadata URL stopped answering before the end of the document.')
}
