import fp from 'fastify-plugin'
import { authErrors } from '../errors.ts'

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Cross-site request forgery guard for the JSON API: a state-changing request that carries an
 * `Origin` must come from PUBLIC_URL's origin. (Browsers always send Origin on cross-site POSTs;
 * JSON bodies cannot be sent cross-site without a CORS preflight we never grant.) The SAML ACS is
 * exempt: the IdP's form posts to it from another origin by design.
 */
export default fp<{ publicOrigin: string; exempt: (url: string) => boolean }>(
  async (app, options) => {
    app.addHook('onRequest', async (request) => {
      if (!stateChanging.has(request.method) || options.exempt(request.url)) return
      const origin = request.headers.origin
      if (origin !== undefined && origin !== options.publicOrigin) throw authErrors.forbiddenOrigin()
    })
  },
  { name: 'origin-guard' },
)
