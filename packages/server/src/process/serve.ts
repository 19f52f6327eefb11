import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { ConfigError } from './config.ts'

export interface ServeOptions {
  host: string
  port: number
  /** Closes what the app does not own itself (database, Redis, workers), after HTTP stops. */
  closeDependencies?: () => Promise<void>
}

/**
 * Listens, and on SIGTERM / SIGINT stops accepting requests, finishes those in flight, then
 * closes dependencies — all within 10 s, after which the process exits regardless. The app ends
 * its connections as it closes (closingConnectionsPlugin, which createApp registers).
 */
export async function serve(app: FastifyInstance, options: ServeOptions): Promise<void> {
  // close-with-grace also answers an uncaught exception or unhandled rejection, and that is the
  // one last resort: drain, then exit 1 for the orchestrator to restart the process. Expected
  // outages (Postgres, Redis, SMTP away) never get this far — every background loop and job
  // catches them, logs them once with a code and retries with back-off — so what does is a bug,
  // and a process in an unknown state must not carry on as if it were healthy.
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    const stopping = performance.now()
    if (err) app.log.error({ code: 'uncaught_error', err }, 'shutting down after an uncaught error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
    await options.closeDependencies?.()
    // How long the stop itself took; the process's exit after it (the kernel freeing its memory)
    // is not the program's to shorten.
    app.log.info({ milliseconds: Math.round(performance.now() - stopping) }, 'stopped')
  })
  await app.listen({ host: options.host, port: options.port })
}

/** Runs a service's start-up; a bad configuration stops it with one clear line, not a stack trace. */
export async function start(main: () => Promise<void>): Promise<void> {
  try {
    await main()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`)
    } else {
      console.error('start-up failed:', error instanceof Error ? error.message : error)
    }
    process.exit(1)
  }
}
