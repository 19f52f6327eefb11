import fp from 'fastify-plugin'
import { invitationErrors } from '../errors.ts'

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Cross-site request forgery guard (as auth's): the session cookie rides along with any request
 * a browser sends, so a state-changing request that carries an `Origin` must come from
 * PUBLIC_URL's origin. JSON bodies cannot be sent cross-site without a CORS preflight, never granted.
 */
export default fp<{ publicOrigin: string }>(
  async (app, options) => {
    app.addHook('onRequest', async (request) => {
      if (!stateChanging.has(request.method)) return
      const origin = request.headers.origin
      if (origin !== undefined && origin !== options.publicOrigin) throw invitationErrors.forbiddenOrigin()
    })
  },
  { name: 'invitation-origin-guard' },
)
