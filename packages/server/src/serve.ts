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
 * closes dependencies — all within 10 s, after which the process exits regardless.
 */
export async function serve(app: FastifyInstance, options: ServeOptions): Promise<void> {
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an uncaught error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
    await options.closeDependencies?.()
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
