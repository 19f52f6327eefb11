import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'

/**
 * Closing the app (serve()'s stop at SIGTERM, or a test's app.close()) ends its connections
 * instead of waiting for them. Node's server.close() closes the sockets idle at that moment and
 * waits for the rest: one whose request has begun but is not all there (a slow client, a browser
 * cut off mid-request) until it times out, and one whose request was in flight until the
 * keep-alive timeout (72 s) after its answer, which the 10 s drain limit would cut with exit code 1.
 * Sockets with no request in flight are closed at once; those with one finish it and are closed
 * after its answer.
 */
export const closingConnectionsPlugin = fp(
  async (app) => {
    const sockets = new Set<Socket>()
    const answering = new Map<Socket, ServerResponse>()
    let closing = false
    app.server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => {
        sockets.delete(socket)
        answering.delete(socket)
      })
    })
    app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const socket = request.socket
      answering.set(socket, response)
      response.once('close', () => {
        answering.delete(socket)
        if (closing) socket.end()
      })
    })
    // preClose: before Fastify closes the server and waits for its connections.
    app.addHook('preClose', async () => {
      closing = true
      for (const socket of sockets) {
        const response = answering.get(socket)
        if (response === undefined) socket.destroy()
        // The answer says `Connection: close`, so the client sends nothing more on this socket.
        else if (!response.headersSent) response.shouldKeepAlive = false
      }
    })
  },
  { name: 'closing-connections' },
)
