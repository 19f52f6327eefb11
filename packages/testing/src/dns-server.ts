// A DNS server on loopback that answers TXT, A and AAAA questions from a table the test fills
// (RFC 1035 §4.1 wire format over UDP), so domain verification and the SSRF guard of metadata
// fetching are tested against a real resolver path (node:dns) without the internet or a zone on
// the machine.

import { createSocket } from 'node:dgram'
import { isIPv4, isIPv6 } from 'node:net'

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for `DNS_SERVERS`. */
  address: string
  /** Publishes these TXT values at `name` (replacing earlier ones). */
  setTxt(name: string, values: string[]): void
  /** Publishes these addresses at `name` (A for IPv4, AAAA for IPv6; replacing earlier ones). */
  setAddresses(name: string, addresses: string[]): void
  /** Makes every question about `name` go unanswered, as a dead or filtered resolver would. */
  silence(name: string): void
  close(): Promise<void>
}

const typeA = 1
const typeTxt = 16
const typeAaaa = 28
const flagResponse = 0x8000
const flagAuthoritative = 0x0400
const flagRecursionDesired = 0x0100
const flagRecursionAvailable = 0x0080
const rcodeFormatError = 1
const rcodeNameError = 3

/** The question's name (lower-case) and where the question ends, or null for what is not a query. */
function readQuestion(query: Buffer): { name: string; end: number; type: number } | null {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return null
  const labels: string[] = []
  let offset = 12
  while (offset < query.length) {
    const length = query[offset] ?? 0
    offset += 1
    if (length === 0) break
    if (length > 63 || offset + length > query.length) return null
    labels.push(
      query
        .subarray(offset, offset + length)
        .toString('latin1')
        .toLowerCase(),
    )
    offset += length
  }
  if (offset + 4 > query.length) return null
  return { name: labels.join('.'), end: offset + 4, type: query.readUInt16BE(offset) }
}

function txtRecord(value: string): Buffer {
  // A TXT RDATA is character-strings of at most 255 bytes each (RFC 1035 §3.3.14).
  const bytes = Buffer.from(value, 'utf8')
  const chunks: Buffer[] = []
  for (let start = 0; start < bytes.length || start === 0; start += 255) {
    const chunk = bytes.subarray(start, start + 255)
    chunks.push(Buffer.from([chunk.length]), chunk)
    if (bytes.length === 0) break
  }
  return resourceRecord(typeTxt, Buffer.concat(chunks))
}

/** An A (RFC 1035 §3.4.1) or AAAA (RFC 3596 §2.2) record: the address in network order. */
function addressRecord(address: string): Buffer {
  if (isIPv4(address)) return resourceRecord(typeA, Buffer.from(address.split('.').map(Number)))
  // The URL parser writes an embedded IPv4 tail (`::ffff:127.0.0.1`) as hex groups.
  const [head = '', tail = ''] = new URL(`http://[${address}]`).hostname.slice(1, -1).split('::')
  const groups = (part: string) => (part ? part.split(':') : [])
  const missing = 8 - groups(head).length - groups(tail).length
  const words = [...groups(head), ...Array(address.includes('::') ? missing : 0).fill('0'), ...groups(tail)]
  const rdata = Buffer.alloc(16)
  for (const [index, word] of words.entries()) rdata.writeUInt16BE(Number.parseInt(word, 16), index * 2)
  return resourceRecord(typeAaaa, rdata)
}

function resourceRecord(type: number, rdata: Buffer): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question's
  header.writeUInt16BE(type, 2)
  header.writeUInt16BE(1, 4) // class IN
  header.writeUInt32BE(0, 6) // TTL 0: nothing is cached between test steps
  header.writeUInt16BE(rdata.length, 10)
  return Buffer.concat([header, rdata])
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, string[]>()
  const addresses = new Map<string, string[]>()
  const silenced = new Set<string>()
  const socket = createSocket('udp4')
  socket.on('message', (query, peer) => {
    const question = readQuestion(query)
    if (question && silenced.has(question.name)) return
    const values = question ? records.get(question.name) : undefined
    const published = question ? addresses.get(question.name) : undefined
    const answers =
      question?.type === typeTxt && values
        ? values.map(txtRecord)
        : question?.type === typeA && published
          ? published.filter((address) => isIPv4(address)).map(addressRecord)
          : question?.type === typeAaaa && published
            ? published.filter((address) => isIPv6(address)).map(addressRecord)
            : []
    const header = Buffer.alloc(12)
    header.writeUInt16BE(query.length >= 2 ? query.readUInt16BE(0) : 0, 0)
    const rcode = !question ? rcodeFormatError : values || published ? 0 : rcodeNameError
    const recursion = query.length >= 4 ? query.readUInt16BE(2) & flagRecursionDesired : 0
    header.writeUInt16BE(flagResponse | flagAuthoritative | recursion | flagRecursionAvailable | rcode, 2)
    header.writeUInt16BE(question ? 1 : 0, 4)
    header.writeUInt16BE(answers.length, 6)
    const body = question ? query.subarray(12, question.end) : Buffer.alloc(0)
    socket.send(Buffer.concat([header, body, ...answers]), peer.port, peer.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${socket.address().port}`,
    setTxt: (name, values) => records.set(name.toLowerCase(), values),
    setAddresses: (name, published) => addresses.set(name.toLowerCase(), published),
    silence: (name) => silenced.add(name.toLowerCase()),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
