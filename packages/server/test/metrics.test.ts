import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { eventually, parsePrometheusText, samplesOf } from '@gatehouse/testing'
import { type CreateAppOptions, createApp } from '../src/http/index.ts'

async function appWith(options: Partial<CreateAppOptions> = {}) {
  const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example'), ...options })
  app.get('/things/:thingId', async (request) => ({ id: (request.params as { thingId: string }).thingId }))
  app.get('/broken', async () => {
    throw new Error('broken')
  })
  await app.ready()
  return app
}

async function scrape(app: Awaited<ReturnType<typeof appWith>>) {
  const response = await app.inject({ url: '/metrics' })
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  return parsePrometheusText(response.body)
}

describe('/metrics', () => {
  it('counts requests by route pattern and status, never by the URL a client chose', async () => {
    const app = await appWith()
    try {
      for (const id of ['a', 'b', 'c']) await app.inject({ url: `/things/${id}` })
      await app.inject({ url: '/broken' })
      await app.inject({ url: '/no/such/route/x1' })
      await app.inject({ url: '/no/such/route/x2' })
      const samples = await scrape(app)
      const count = (labels: Record<string, string>) =>
        samplesOf(samples, 'gatehouse_http_request_duration_seconds_count', labels)[0]?.value
      assert.equal(count({ route: '/things/:thingId', method: 'GET', status_code: '200', service: 'test' }), 3)
      assert.equal(count({ route: '/broken', status_code: '500' }), 1)
      assert.equal(count({ route: 'unmatched', status_code: '404' }), 2)
      const routes = new Set(samples.map((sample) => sample.labels.route).filter(Boolean))
      assert.ok(![...routes].some((route) => route?.includes('x1') || route?.includes('/things/a')), [...routes].join())
      const buckets = samplesOf(samples, 'gatehouse_http_request_duration_seconds_bucket', {
        route: '/things/:thingId',
      })
      assert.equal(buckets.find((bucket) => bucket.labels.le === '+Inf')?.value, 3)
    } finally {
      await app.close()
    }
  })

  it("carries Node's own series, event-loop lag among them", async () => {
    const app = await appWith()
    try {
      const samples = await scrape(app)
      const lag = samplesOf(samples, 'nodejs_eventloop_lag_seconds')[0]
      assert.ok(lag && lag.value >= 0 && lag.value < 10, `lag ${lag?.value}`)
      assert.ok((samplesOf(samples, 'process_resident_memory_bytes')[0]?.value ?? 0) > 1_000_000)
    } finally {
      await app.close()
    }
  })

  it('keeps each app’s series apart (one registry per program)', async () => {
    const first = await appWith({ service: 'first' })
    const second = await appWith({ service: 'second' })
    try {
      await first.inject({ url: '/things/a' })
      const fromSecond = await scrape(second)
      assert.equal(
        samplesOf(fromSecond, 'gatehouse_http_request_duration_seconds_count', { service: 'first' }).length,
        0,
      )
      assert.equal(
        samplesOf(fromSecond, 'gatehouse_http_request_duration_seconds_count', { route: '/things/:thingId' }).length,
        0,
      )
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('leaves out a scrape-time gauge whose reading fails, and still answers', async () => {
    const app = await createApp({ service: 'test', readiness: {}, publicUrl: new URL('https://app.example') })
    let failing = false
    app.metrics.sampledGauge({
      name: 'test_backlog',
      help: 'test',
      labelNames: ['queue'],
      sample: async () => {
        if (failing) throw new Error('database down')
        return [{ labels: { queue: 'q' }, value: 7 }]
      },
    })
    await app.ready()
    try {
      assert.equal(
        samplesOf(parsePrometheusText((await app.inject({ url: '/metrics' })).body), 'test_backlog')[0]?.value,
        7,
      )
      failing = true
      const response = await app.inject({ url: '/metrics' })
      assert.equal(response.statusCode, 200)
      assert.equal(samplesOf(parsePrometheusText(response.body), 'test_backlog').length, 0)
    } finally {
      await app.close()
    }
  })
})

describe('request ids', () => {
  it('are made by a program facing clients, whatever x-request-id a client sends', async () => {
    const app = await appWith()
    try {
      const response = await app.inject({ url: '/things/a', headers: { 'x-request-id': 'chosen-by-the-client' } })
      assert.notEqual(response.headers['x-request-id'], 'chosen-by-the-client')
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    } finally {
      await app.close()
    }
  })

  it('are kept from the gateway by the services behind it', async () => {
    const app = await appWith({ trustRequestId: true })
    try {
      const response = await app.inject({ url: '/things/a', headers: { 'x-request-id': 'made-by-the-gateway-1' } })
      assert.equal(response.headers['x-request-id'], 'made-by-the-gateway-1')
    } finally {
      await app.close()
    }
  })
})

describe('under pressure', () => {
  it('answers 503 service_unavailable with Retry-After, while /healthz and /metrics still answer', async () => {
    const app = await appWith({ pressureLimits: { maxHeapUsedBytes: 1, sampleIntervalMs: 100 } })
    try {
      const busy = await eventually(
        'the heap limit to turn requests away',
        async () => {
          const response = await app.inject({ url: '/things/a' })
          return response.statusCode === 503 ? response : undefined
        },
        { timeoutMs: 5_000, intervalMs: 20 },
      )
      assert.deepEqual(Object.keys(busy.json()).sort(), ['error', 'message'])
      assert.equal(busy.json().error, 'service_unavailable')
      assert.equal(busy.headers['retry-after'], '10')
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
      const samples = await scrape(app)
      assert.equal(
        samplesOf(samples, 'gatehouse_http_request_duration_seconds_count', {
          route: '/things/:thingId',
          status_code: '503',
        }).length,
        1,
      )
    } finally {
      await app.close()
    }
  })

  it('takes requests while under its limits', async () => {
    const app = await appWith({ pressureLimits: { sampleIntervalMs: 100 } })
    try {
      await new Promise((resolve) => setTimeout(resolve, 250))
      assert.equal((await app.inject({ url: '/things/a' })).statusCode, 200)
    } finally {
      await app.close()
    }
  })
})
