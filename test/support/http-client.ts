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
    /** The Origin header a browser sends with a POST from a page of that origin. */
    origin?: string
    sourceAddress?: string
    /** More request headers, e.g. a forged X-Forwarded-For. */
    headers?: Record<string, string>
  } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...options.headers }
  if (options.cookie) headers.cookie = options.cookie
  if (options.origin) headers.origin = options.origin
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

export interface Page extends HttpResult {
  /** The address this answer came from (after any redirects followed). */
  url: string
}

/**
 * What a browser does with HTTP, for driving a real IdP without one: cookies kept per host (RFC
 * 6265 §5.3 keys them by host, not port), redirects followed, HTML forms read and submitted. No
 * script runs: an IdP's auto-submitting form is posted by `submitForm`, as its <noscript> button would.
 */
export function createBrowser(sourceAddress: string = uniqueLoopbackAddress()) {
  const jar = new Map<string, Map<string, string>>()

  const cookieHeader = (url: URL) => [...(jar.get(url.hostname)?.values() ?? [])].join('; ')
  const keep = (url: URL, result: HttpResult) => {
    const cookies = jar.get(url.hostname) ?? new Map<string, string>()
    jar.set(url.hostname, cookies)
    for (const setCookie of result.headers.getSetCookie()) {
      const [pair = '', ...attributes] = setCookie.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      if (!name) continue
      const expired = attributes.some((attribute) => {
        const [key = '', value = ''] = attribute.trim().split('=')
        if (key.toLowerCase() === 'max-age') return Number(value) <= 0
        if (key.toLowerCase() === 'expires') return Date.parse(attribute.trim().slice(8)) < Date.now()
        return false
      })
      if (expired) cookies.delete(name)
      else cookies.set(name, pair.trim())
    }
  }

  /** One request with this browser's cookies; redirects followed (as GET) unless `follow` is false. */
  async function open(
    address: string,
    options: { form?: Record<string, string>; origin?: string; follow?: boolean; accept?: string } = {},
  ): Promise<Page> {
    let url = new URL(address)
    let form = options.form
    for (let hops = 0; hops < 10; hops++) {
      const result = await request(url.href, {
        form,
        origin: form ? options.origin : undefined,
        cookie: cookieHeader(url) || undefined,
        accept: options.accept ?? 'text/html,application/xhtml+xml,*/*',
        sourceAddress,
      })
      keep(url, result)
      const location = result.headers.get('location')
      if (options.follow === false || location === null || result.status < 300 || result.status > 399) {
        return { ...result, url: url.href }
      }
      url = new URL(location, url)
      form = undefined
    }
    throw new Error(`more than 10 redirects from ${address}`)
  }

  return {
    open,
    /**
     * Submits the form of `page` that has a field named `field` (the login form: `password`; an
     * IdP's auto-submit form: `SAMLResponse`), with its own fields plus `fill`.
     */
    submitForm(page: Page, field: string, fill: Record<string, string> = {}, options: { follow?: boolean } = {}) {
      const form = htmlForms(String(page.body)).find((candidate) => field in candidate.fields)
      if (!form) throw new Error(`no form with a "${field}" field at ${page.url} (${page.status}):\n${page.body}`)
      const action = new URL(form.action || page.url, page.url).href
      if (form.method !== 'post') throw new Error(`the form at ${page.url} is sent by ${form.method}, not post`)
      return open(action, {
        form: { ...form.fields, ...fill },
        origin: new URL(page.url).origin,
        follow: options.follow,
      })
    },
    /** The cookies this browser holds for a host. */
    cookiesFor: (address: string) => Object.fromEntries(jar.get(new URL(address).hostname) ?? []),
  }
}

export type Browser = ReturnType<typeof createBrowser>

/** The forms of an HTML page: action, method and the name/value of each input (HTML entities decoded). */
export function htmlForms(html: string): { action: string; method: string; fields: Record<string, string> }[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, formAttributes = '', inner = '']) => {
    const form = htmlAttributes(formAttributes)
    const fields: Record<string, string> = {}
    for (const [, inputAttributes = ''] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const input = htmlAttributes(inputAttributes)
      if (input.name !== undefined) fields[input.name] = input.value ?? ''
    }
    return { action: form.action ?? '', method: (form.method ?? 'get').toLowerCase(), fields }
  })
}

function htmlAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const [, name = '', doubleQuoted, singleQuoted, bare] of text.matchAll(
    /([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g,
  )) {
    attributes[name.toLowerCase()] = decodeEntities(doubleQuoted ?? singleQuoted ?? bare ?? '')
  }
  return attributes
}

const namedEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1))
      return String.fromCodePoint(code)
    }
    return namedEntities[body.toLowerCase()] ?? entity
  })
}
