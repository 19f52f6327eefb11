import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
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
  const connections = trackConnections(app.server)
  // close-with-grace also answers an uncaught exception or unhandled rejection, and that is the
  // one last resort: drain, then exit 1 for the orchestrator to restart the process. Expected
  // outages (Postgres, Redis, SMTP away) never get this far — every background loop and job
  // catches them, logs them once with a code and retries with back-off — so what does is a bug,
  // and a process in an unknown state must not carry on as if it were healthy.
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    const stopping = performance.now()
    if (err) app.log.error({ code: 'uncaught_error', err }, 'shutting down after an uncaught error')
    else app.log.info({ signal }, 'shutting down')
    const closing = app.close()
    connections.closeWithoutRequest()
    await closing
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

/**
 * Node's server.close() (and Fastify's idle-connection closing) waits for every socket that has
 * no finished request yet, which includes a browser's preconnected socket that never sends one:
 * web took the whole 10 s to stop. Sockets with no request in flight are closed at once; those
 * with one finish it (up to the 10 s drain limit) and are closed after its answer: Node would keep
 * them alive (keepAliveTimeout, 72 s), and the stop would end killed at 10 s with exit code 1.
 */
export function trackConnections(server: Server) {
  const sockets = new Set<Socket>()
  const answering = new Map<Socket, ServerResponse>()
  let stopping = false
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      answering.delete(socket)
    })
  })
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket
    answering.set(socket, response)
    response.once('close', () => {
      answering.delete(socket)
      if (stopping) socket.end()
    })
  })
  return {
    closeWithoutRequest() {
      stopping = true
      for (const socket of sockets) {
        const response = answering.get(socket)
        if (response === undefined) socket.destroy()
        // The answer says `Connection: close`, so the client sends nothing more on this socket.
        else if (!response.headersSent) response.shouldKeepAlive = false
      }
    },
  }
}
