// A tiny HTTP client for tests that talk to real processes: JSON in and out, cookies by hand
// (as a browser would keep them), redirects not followed.

export interface HttpResult {
  status: number
  headers: Headers
  /** Parsed JSON when the response is JSON, else the text. */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads the fields of the response it expects.
  body: any
  /** `name=value` of each cookie the response set. */
  cookies: Record<string, string>
}

export async function request(
  url: string,
  options: { method?: string; cookie?: string; json?: unknown; form?: Record<string, string>; accept?: string } = {},
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
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: 'manual',
  })
  const text = await response.text()
  const isJson = (response.headers.get('content-type') ?? '').includes('application/json')
  const cookies: Record<string, string> = {}
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';')
    const separator = pair?.indexOf('=') ?? -1
    if (pair && separator > 0) cookies[pair.slice(0, separator)] = pair
  }
  return { status: response.status, headers: response.headers, body: isJson && text ? JSON.parse(text) : text, cookies }
}
