import fp from 'fastify-plugin'
import { errors } from '../errors.ts'

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Cross-site request forgery guard for a JSON API: the session cookie rides along with any request
 * a browser sends, so a state-changing request that carries an `Origin` must come from PUBLIC_URL's
 * origin. (Browsers always send Origin on cross-site POSTs; JSON bodies cannot be sent cross-site
 * without a CORS preflight, which is never granted.) `exempt` names routes other sites post to by
 * design, such as the SAML ACS the IdP's form targets.
 */
export const originGuard = fp<{ publicOrigin: string; exempt?: (url: string) => boolean }>(
  async (app, options) => {
    app.addHook('onRequest', async (request) => {
      if (!stateChanging.has(request.method) || options.exempt?.(request.url)) return
      const origin = request.headers.origin
      // The refusal names the address to use instead: opening the product at another address of
      // the same machine (127.0.0.1 for localhost) is the usual way a person meets it.
      if (origin !== undefined && origin !== options.publicOrigin) {
        throw errors.forbiddenOrigin(
          `This request came from another site and was refused. Open Gatehouse at ${options.publicOrigin} (PUBLIC_URL).`,
        )
      }
    })
  },
  { name: 'origin-guard' },
)
