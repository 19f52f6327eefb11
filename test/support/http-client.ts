// A tiny HTTP client for tests that talk to real processes: JSON in and out, cookies by hand
// (as a browser would keep them), redirects not followed. Requests leave from a loopback address
// of their own (127.x.y.z), so per-IP rate limits of real services count this test run apart
// from every other run on the machine.

import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'

export interface HttpResult {
  status: number
  headers: Headers
  /** Parsed JSON when the response is JSON, else the text. */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads the fields of the response it expects.
  body: any
  /** `name=value` of each cookie the response set. */
  cookies: Record<string, string>
}

/** A loopback address unique to this client (Linux routes all of 127.0.0.0/8 to lo). */
export function uniqueLoopbackAddress(): string {
  const [a = 0, b = 0, c = 1] = randomBytes(3)
  return `127.${a}.${b}.${Math.max(c, 1)}`
}

const defaultSourceAddress = uniqueLoopbackAddress()

export async function request(
  url: string,
  options: {
    method?: string
    cookie?: string
    json?: unknown
    form?: Record<string, string>
    accept?: string
    sourceAddress?: string
  } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' }
  if (options.cookie) headers.cookie = options.cookie
  let body: string | undefined
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(options.form).toString()
  }
  const method = options.method ?? (body === undefined ? 'GET' : 'POST')
  const { status, rawHeaders, text } = await new Promise<{ status: number; rawHeaders: string[]; text: string }>(
    (resolve, reject) => {
      const outgoing = httpRequest(
        url,
        { method, headers, localAddress: options.sourceAddress ?? defaultSourceAddress },
        (response) => {
          let received = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => {
            received += chunk
          })
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, rawHeaders: response.rawHeaders, text: received }),
          )
          response.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    },
  )
  const responseHeaders = new Headers()
  const cookies: Record<string, string> = {}
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] ?? ''
    const value = rawHeaders[index + 1] ?? ''
    responseHeaders.append(name, value)
    if (name.toLowerCase() !== 'set-cookie') continue
    const [pair = ''] = value.split(';')
    const separator = pair.indexOf('=')
    if (separator > 0) cookies[pair.slice(0, separator)] = pair
  }
  const isJson = (responseHeaders.get('content-type') ?? '').includes('application/json')
  return { status, headers: responseHeaders, body: isJson && text ? JSON.parse(text) : text, cookies }
}
