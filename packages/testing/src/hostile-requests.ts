// Hostile requests for every route a Fastify app documents: each JSON field, path parameter and
// query parameter replaced in turn by values no honest client sends, and bodies that are not what
// the route reads at all. A route may refuse them however it likes; it may not answer 5xx.
import { randomUUID } from 'node:crypto'
import { uniqueIp } from './unique.ts'

/** What a client could put where any value goes: wrong types, extremes, injections, bad Unicode. */
export const hostileValues: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  'x'.repeat(100_000),
  '\u0000',
  '\ud800',
  '😀'.repeat(2_000),
  '../../../etc/passwd',
  "' or 1=1 --",
  '<script>alert(1)</script>',
  '%00%2e%2e%2f',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  [],
  ['a', 'b'],
  {},
  { $gt: '' },
  JSON.parse('{"__proto__": {"admin": true}}'),
]

/** Whole bodies that are not the object a JSON route reads. */
const hostileRawBodies: readonly string[] = [
  '',
  '{',
  'null',
  '[]',
  '"text"',
  '12',
  '{"a":1,"a":2}',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  JSON.stringify({ nested: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) }),
  '\u0000\u0001\u0002',
]

/** A path segment in place of a path parameter. */
const hostileSegments: readonly string[] = [
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  randomUUID(),
  `urn:uuid:${randomUUID()}`,
  randomUUID().toUpperCase(),
  '%00',
  '..%2f..%2finternal',
  'x'.repeat(5_000),
  '%F0%9F%98%80',
]

interface BodySchema {
  properties?: Record<string, unknown>
  /** A body that is one of several objects (e.g. the IdP's three values, or its metadata). */
  anyOf?: BodySchema[]
}

interface OpenApiOperation {
  parameters?: { in: string; name: string }[]
  requestBody?: { content?: Record<string, { schema?: BodySchema }> }
}

/** What `serverErrorsFor` needs of an app: Fastify's `inject`. */
export interface Injectable {
  inject(options: {
    method: string
    url: string
    headers: Record<string, string>
    payload?: string
    remoteAddress: string
  }): PromiseLike<{ statusCode: number; body: string }>
}

export interface HostileRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string
}

/**
 * The hostile requests for each operation of an OpenAPI document (`app.swagger()`). `known` gives
 * real values, by name, for path parameters and body fields (e.g. a workspace the caller owns, a
 * fresh email, a strong password; a function for a new value each time), so that the one hostile
 * value in a request reaches the route's logic instead of stopping at an early refusal.
 * `hostileFor` adds values aimed at one field (e.g. hostile XML for `metadataXml`).
 */
export function hostileRequests(
  spec: { paths: Record<string, Record<string, OpenApiOperation>> },
  known: Record<string, string | (() => string)> = {},
  hostileFor: Record<string, readonly unknown[]> = {},
): HostileRequest[] {
  const knownValue = (name: string) => {
    const value = known[name]
    return typeof value === 'function' ? value() : value
  }
  const requests: HostileRequest[] = []
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const pathParameters = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path')
      const queryParameters = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query')
      const fill = (replaced?: string, segment?: string) =>
        pathParameters.reduce(
          (url, { name }) =>
            url.replace(`{${name}}`, name === replaced ? (segment ?? '') : (knownValue(name) ?? randomUUID())),
          path,
        )
      const schema = Object.values(operation.requestBody?.content ?? {})[0]?.schema
      const bodyShapes = schema?.anyOf ?? (schema ? [schema] : [])
      const jsonHeaders = { 'content-type': 'application/json' }
      const validBody = (shape = bodyShapes[0]) =>
        Object.fromEntries(Object.keys(shape?.properties ?? {}).map((name) => [name, knownValue(name) ?? 'value']))
      const send = (url: string, payload?: string) =>
        requests.push({ method: method.toUpperCase(), url, headers: jsonHeaders, payload })

      for (const { name } of pathParameters) {
        for (const segment of hostileSegments)
          send(fill(name, segment), schema ? JSON.stringify(validBody()) : undefined)
      }
      for (const { name } of queryParameters) {
        for (const value of hostileValues) {
          send(`${fill()}?${name}=${queryValue(value)}`)
        }
      }
      if (!schema) continue
      for (const shape of bodyShapes) {
        for (const name of Object.keys(shape.properties ?? {})) {
          for (const value of [...hostileValues, ...(hostileFor[name] ?? [])]) {
            send(fill(), JSON.stringify({ ...validBody(shape), [name]: value }))
          }
        }
      }
      for (const raw of hostileRawBodies) send(fill(), raw)
    }
  }
  return requests
}

// A lone surrogate has no UTF-8 form: it goes as the bytes a careless encoder would send for it.
function queryValue(value: unknown): string {
  try {
    return encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))
  } catch {
    return '%ED%A0%80'
  }
}

/**
 * Sends each request as the holder of `cookie` (each from an address of its own, so per-IP limits
 * do not cut the run short) and describes every one answered with a 5xx.
 */
export async function serverErrorsFor(app: Injectable, requests: HostileRequest[], cookie: string): Promise<string[]> {
  const failures: string[] = []
  for (const request of requests) {
    const response = await app.inject({
      ...request,
      headers: { ...request.headers, cookie },
      remoteAddress: uniqueIp(),
    })
    if (response.statusCode >= 500) {
      const payload = request.payload?.slice(0, 120) ?? ''
      failures.push(
        `${request.method} ${request.url.slice(0, 120)} ${payload} -> ${response.statusCode} ${response.body.slice(0, 200)}`,
      )
    }
  }
  return failures
}
