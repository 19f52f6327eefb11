import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { failureFields } from '../failures.ts'

/** One value of a gauge read at scrape time, e.g. `{ labels: { queue, state }, value: 3 }`. */
export interface GaugeSample {
  labels?: Record<string, string>
  value: number
}

/** A gauge whose values are read when Prometheus scrapes (a database count, a queue's jobs). */
export interface SampledGauge {
  name: string
  help: string
  labelNames?: readonly string[]
  sample: () => Promise<GaugeSample[]>
}

/**
 * The metrics of one program, exposed at `/metrics`. A registry per app, not prom-client's global
 * one: tests build several apps in one process, and each program's series must be its own.
 */
export interface Metrics {
  registry: Registry
  counter<Label extends string>(options: { name: string; help: string; labelNames: readonly Label[] }): Counter<Label>
  /** A gauge read at each scrape; a failing read leaves its series out of that scrape (and is logged). */
  sampledGauge(gauge: SampledGauge): void
}

// Buckets from 2.5 ms (a cached page) to 10 s (an ACS under load, a slow upstream).
const latencyBuckets = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * `/metrics` in Prometheus text format: request latency per route pattern and status, Node's
 * default process metrics (event-loop lag, heap, CPU, GC), and what the app adds through
 * `app.metrics`. The route label is the pattern a request matched (`/v1/workspaces/:workspaceId`),
 * never the raw URL: an attacker choosing URLs must not choose the number of series.
 */
export const metricsPlugin = fp<{ service: string }>(
  async (app, options) => {
    const registry = new Registry()
    registry.setDefaultLabels({ service: options.service })
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 })

    const requestDuration = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: latencyBuckets,
      registers: [registry],
    })
    const started = new WeakMap<FastifyRequest, bigint>()
    app.addHook('onRequest', async (request) => {
      started.set(request, process.hrtime.bigint())
    })
    app.addHook('onResponse', async (request, reply) => {
      const start = started.get(request)
      if (start === undefined) return
      requestDuration.observe(
        { method: request.method, route: routeLabel(request), status_code: String(reply.statusCode) },
        Number(process.hrtime.bigint() - start) / 1e9,
      )
    })

    const metrics: Metrics = {
      registry,
      counter: (counter) => new Counter({ ...counter, labelNames: [...counter.labelNames], registers: [registry] }),
      sampledGauge: (gauge) => {
        new Gauge({
          name: gauge.name,
          help: gauge.help,
          labelNames: [...(gauge.labelNames ?? [])],
          registers: [registry],
          async collect() {
            this.reset()
            try {
              for (const { labels, value } of await gauge.sample()) {
                if (labels) this.set(labels, value)
                else this.set(value)
              }
            } catch (error) {
              app.log.warn({ ...failureFields(error), metric: gauge.name }, 'metric not sampled')
            }
          },
        })
      },
    }
    app.decorate('metrics', metrics)

    // Public to whoever reaches the port: Prometheus scrapes each program directly, and the web
    // gateway never forwards /metrics (NetworkPolicies keep it inside the cluster).
    app.get('/metrics', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) => {
      const text = await registry.metrics()
      return reply.type(registry.contentType).header('cache-control', 'no-store').send(text)
    })
  },
  { name: 'gatehouse-metrics' },
)

/** The matched route's pattern; requests that matched none share one label. */
function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched'
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This program's metrics (`/metrics`): add counters and scrape-time gauges here. */
    metrics: Metrics
  }
}
