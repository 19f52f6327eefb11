import fp from 'fastify-plugin'

/** Closes one background part (a BullMQ worker, an outbox relay, a stream subscriber, a thread pool). */
export type CloseBackgroundPart = () => Promise<unknown>

/**
 * `app.closeTogether(close)`: the part closes when the app does, after HTTP has stopped (Fastify
 * closes its server before any onClose hook runs, so requests in flight still find it), and
 * alongside the other parts rather than after them. Each close waits on a few Redis round trips
 * (QUIT, a worker's blocking read cut short, leaving a group); one after another, a process
 * starved of CPU took most of a second for them alone. Every part is closed whether or not
 * another fails.
 */
export const backgroundPartsPlugin = fp(
  async (app) => {
    const parts: CloseBackgroundPart[] = []
    app.decorate('closeTogether', (close: CloseBackgroundPart) => {
      parts.push(close)
    })
    app.addHook('onClose', async () => {
      const results = await Promise.allSettled(parts.map((close) => close()))
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
      if (failures.length === 1) throw failures[0]
      if (failures.length > 1) throw new AggregateError(failures, `${failures.length} background parts failed to close`)
    })
  },
  { name: 'background-parts' },
)

declare module 'fastify' {
  interface FastifyInstance {
    /** Closes `close` with the app, together with the other background parts (background-parts.ts). */
    closeTogether(close: CloseBackgroundPart): void
  }
}
