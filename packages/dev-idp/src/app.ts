import { randomBytes, randomUUID } from 'node:crypto'
import formbody from '@fastify/formbody'
import { closingConnectionsPlugin } from '@gatehouse/server/http'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import type { ParsedAuthnRequest } from './authn-request.ts'
import { DevIdpError } from './errors.ts'
import type { DevIdp } from './idp.ts'
import {
  autoPostPage,
  autoPostScript,
  copyScript,
  homePage,
  type RequestBinding,
  refusalPage,
  signInPage,
} from './pages.ts'
import { createRegistry, type RegisteredApplication, type RememberedUser, validateUser } from './registry.ts'

export interface DevIdpAppOptions {
  idp: DevIdp
  /** Applications and remembered users live under `${dataDir}/dev-idp/`. */
  dataDir: string
  logger?: FastifyServerOptions['logger']
  /** The time responses are issued at. Default: the current time. */
  clock?: () => Date
}

type FormFields = Record<string, string | undefined>

const stringField = { type: 'string', maxLength: 20_000 } as const
const formSchema = (fields: string[]) => ({
  body: {
    type: 'object',
    properties: Object.fromEntries(fields.map((field) => [field, stringField])),
  },
})

/** The dev IdP's pages and SAML endpoints; builds the Fastify instance without listening. */
export async function buildDevIdpApp(options: DevIdpAppOptions): Promise<FastifyInstance> {
  const { idp } = options
  const clock = options.clock ?? (() => new Date())
  const registry = createRegistry(options.dataDir)
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 256 * 1024 })
  await app.register(closingConnectionsPlugin)
  await app.register(formbody)

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof DevIdpError) {
      return sendRefusal(reply, 400, {
        code: error.entraCode ?? error.reason,
        title: 'Sign-in request refused',
        message: error.message,
      })
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status < 500) {
      const message = error instanceof Error ? error.message : 'The request is malformed.'
      return sendRefusal(reply, status, { code: 'invalid_request', title: 'Bad request', message })
    }
    request.log.error({ err: error }, 'dev IdP request failed')
    return sendRefusal(reply, 500, { code: 'server_error', title: 'Something went wrong', message: 'See the log.' })
  })
  app.setNotFoundHandler((_request, reply) =>
    sendRefusal(reply, 404, { code: 'not_found', title: 'Not found', message: 'There is no such page here.' }),
  )

  app.get('/', async (request, reply) =>
    sendHome(reply, 200, undefined, undefined, (request.query as FormFields).saved === '1'),
  )

  app.post('/applications', { schema: formSchema(['identifier', 'replyUrl']) }, async (request, reply) => {
    const form = request.body as FormFields
    try {
      await registry.saveApplication({ identifier: form.identifier, replyUrl: form.replyUrl })
    } catch (error) {
      if (!(error instanceof DevIdpError)) throw error
      return sendHome(reply, 400, error.message, { identifier: form.identifier, replyUrl: form.replyUrl })
    }
    return reply.redirect('/?saved=1', 303)
  })

  app.post('/applications/remove', { schema: formSchema(['identifier']) }, async (request, reply) => {
    await registry.removeApplication((request.body as FormFields).identifier ?? '')
    return reply.redirect('/', 303)
  })

  app.post(
    '/test-sign-in',
    { schema: formSchema(['identifier', 'email', 'firstName', 'lastName']) },
    async (request, reply) => {
      const form = request.body as FormFields
      const application = await registry.findApplication(form.identifier ?? '')
      if (application === undefined) return refuseUnknownApplication(reply, form.identifier ?? '')
      let user: RememberedUser
      try {
        user = validateUser(form)
      } catch (error) {
        if (!(error instanceof DevIdpError)) throw error
        return sendHome(reply, 400, error.message)
      }
      return answerApplication(reply, application, user, undefined)
    },
  )

  app.get('/:tenantId/saml2', async (request, reply) => {
    if (!isOurTenant(request.params)) return refuseUnknownTenant(reply, request.params)
    const query = request.query as FormFields
    if (!query.SAMLRequest) return refuseMissingRequest(reply)
    return showSignIn(
      reply,
      { SAMLRequest: query.SAMLRequest, RelayState: query.RelayState },
      'redirect',
      loginHintOf(query.login_hint),
    )
  })

  app.post('/:tenantId/saml2', { schema: formSchema(['SAMLRequest', 'RelayState']) }, async (request, reply) => {
    if (!isOurTenant(request.params)) return refuseUnknownTenant(reply, request.params)
    const form = request.body as FormFields
    if (!form.SAMLRequest) return refuseMissingRequest(reply)
    return showSignIn(reply, { SAMLRequest: form.SAMLRequest, RelayState: form.RelayState }, 'post')
  })

  app.post(
    '/:tenantId/saml2/sign-in',
    { schema: formSchema(['SAMLRequest', 'RelayState', 'binding', 'email', 'firstName', 'lastName']) },
    async (request, reply) => {
      if (!isOurTenant(request.params)) return refuseUnknownTenant(reply, request.params)
      const form = request.body as FormFields
      const binding: RequestBinding = form.binding === 'post' ? 'post' : 'redirect'
      const samlRequest = form.SAMLRequest ?? ''
      const authnRequest = idp.parseAuthnRequest(
        { SAMLRequest: samlRequest, RelayState: form.RelayState },
        { binding, now: clock() },
      )
      const application = await registeredApplicationFor(reply, authnRequest)
      if (application === undefined) return reply
      let user: RememberedUser
      try {
        user = validateUser(form)
      } catch (error) {
        if (!(error instanceof DevIdpError)) throw error
        const users = await registry.users()
        return sendPage(reply, 400, (nonce) =>
          signInPage({
            idp,
            application,
            request: authnRequest,
            samlRequest,
            binding,
            users,
            nonce,
            error: error.message,
          }),
        )
      }
      return answerApplication(reply, application, user, authnRequest)
    },
  )

  const sendMetadata = async (_request: unknown, reply: FastifyReply) =>
    reply.type('application/xml; charset=utf-8').send(idp.federationMetadataXml())
  // "Federation Metadata XML: Download" in Entra's SAML Certificates section: the same document, as a file.
  app.get('/federationmetadata.xml', async (request, reply) => {
    if ((request.query as FormFields).download === '1') {
      reply.header('content-disposition', 'attachment; filename="Gatehouse dev IdP.xml"')
    }
    return sendMetadata(request, reply)
  })
  app.get('/:tenantId/federationmetadata/2007-06/federationmetadata.xml', async (request, reply) => {
    if (!isOurTenant(request.params)) return refuseUnknownTenant(reply, request.params)
    return sendMetadata(request, reply)
  })

  app.get('/certificate.cer', async (_request, reply) =>
    reply
      .type('application/x-pem-file')
      .header('content-disposition', 'attachment; filename="Gatehouse dev IdP.cer"')
      .send(idp.certificatePem),
  )

  app.get('/auto-post.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('x-content-type-options', 'nosniff').send(autoPostScript),
  )
  app.get('/copy.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('x-content-type-options', 'nosniff').send(copyScript),
  )

  async function showSignIn(
    reply: FastifyReply,
    query: { SAMLRequest: string; RelayState: string | undefined },
    binding: RequestBinding,
    loginHint?: string,
  ) {
    const authnRequest = idp.parseAuthnRequest(
      { SAMLRequest: query.SAMLRequest, ...(query.RelayState !== undefined ? { RelayState: query.RelayState } : {}) },
      { binding, now: clock() },
    )
    const application = await registeredApplicationFor(reply, authnRequest)
    if (application === undefined) return reply
    const users = await registry.users()
    return sendPage(reply, 200, (nonce) =>
      signInPage({
        idp,
        application,
        request: authnRequest,
        samlRequest: query.SAMLRequest,
        binding,
        users,
        nonce,
        ...(loginHint !== undefined ? { loginHint } : {}),
      }),
    )
  }

  /** The application the request's Issuer names, or a refusal sent the way Entra refuses. */
  async function registeredApplicationFor(
    reply: FastifyReply,
    authnRequest: ParsedAuthnRequest,
  ): Promise<RegisteredApplication | undefined> {
    const application = await registry.findApplication(authnRequest.issuer)
    if (application === undefined) {
      await refuseUnknownApplication(reply, authnRequest.issuer)
      return undefined
    }
    // Entra answers only at a Reply URL configured for the app; a request naming another one is
    // refused (AADSTS50011) rather than obeyed, or any SP could have assertions sent anywhere.
    if (authnRequest.acsUrl !== undefined && authnRequest.acsUrl !== application.replyUrl) {
      await sendRefusal(reply, 400, {
        code: 'AADSTS50011',
        title: 'Reply URL mismatch',
        message: `The redirect URI '${authnRequest.acsUrl}' specified in the request does not match the redirect URIs configured for the application '${application.identifier}'.`,
      })
      return undefined
    }
    return application
  }

  async function answerApplication(
    reply: FastifyReply,
    application: RegisteredApplication,
    user: RememberedUser,
    authnRequest: ParsedAuthnRequest | undefined,
  ) {
    await registry.rememberUser(user)
    // The ACS URL is the registered Reply URL, never one taken from the request.
    const samlResponse = idp.responseBase64({
      sp: { entityId: application.identifier, acsUrl: application.replyUrl },
      user,
      now: clock(),
      ...(authnRequest ? { inResponseTo: authnRequest.id } : {}),
    })
    return sendPage(
      reply,
      200,
      (nonce) =>
        autoPostPage({
          acsUrl: application.replyUrl,
          samlResponse,
          ...(authnRequest?.relayState !== undefined ? { relayState: authnRequest.relayState } : {}),
          nonce,
        }),
      [new URL(application.replyUrl).origin],
    )
  }

  async function sendHome(
    reply: FastifyReply,
    status: number,
    error?: string,
    form?: { identifier?: string | undefined; replyUrl?: string | undefined },
    saved = false,
  ) {
    const [applications, users] = await Promise.all([registry.applications(), registry.users()])
    return sendPage(reply, status, (nonce) =>
      homePage({
        idp,
        applications,
        users,
        nonce,
        ...(error !== undefined ? { error } : {}),
        ...(form !== undefined ? { form: { identifier: form.identifier ?? '', replyUrl: form.replyUrl ?? '' } } : {}),
        saved,
      }),
    )
  }

  function isOurTenant(params: unknown): boolean {
    return (params as { tenantId?: string }).tenantId?.toLowerCase() === idp.tenantId
  }

  function refuseUnknownTenant(reply: FastifyReply, params: unknown) {
    const tenantId = (params as { tenantId?: string }).tenantId ?? ''
    return sendRefusal(reply, 404, {
      code: 'AADSTS90002',
      title: 'Tenant not found',
      message: `Tenant '${tenantId}' not found. This dev IdP serves tenant '${idp.tenantId}'.`,
    })
  }

  function refuseMissingRequest(reply: FastifyReply) {
    return sendRefusal(reply, 400, {
      code: 'AADSTS750054',
      title: 'Sign-in request missing',
      message:
        'SAMLRequest or SAMLResponse must be present as query string parameters in HTTP request for SAML Redirect binding.',
    })
  }

  function refuseUnknownApplication(reply: FastifyReply, identifier: string) {
    return sendRefusal(reply, 400, {
      code: 'AADSTS700016',
      title: 'Application not found',
      message: `Application with identifier '${identifier}' was not found in the directory. Register it on the enterprise application page first.`,
    })
  }

  // Entra's error page ends with the details a support request needs: a request id and the time.
  function sendRefusal(reply: FastifyReply, status: number, refusal: { code: string; title: string; message: string }) {
    const details = { requestId: randomUUID(), timestamp: clock().toISOString() }
    return sendPage(reply, status, (nonce) => refusalPage({ ...refusal, ...details, nonce }))
  }

  return app
}

/**
 * Entra's `login_hint`: the email the application already knows, to pre-fill the sign-in page. Only
 * a plausible address is taken (it lands in an input's value, escaped).
 */
function loginHintOf(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 254 || !/^[^\s@<>"']+@[^\s@<>"']+\.[^\s@<>"']+$/.test(value))
    return undefined
  return value
}

/**
 * Sends an HTML page under a strict CSP: styles only with this response's nonce, scripts only from
 * this origin (the auto-post script), forms only to this origin and the given ones (a Reply URL).
 */
function sendPage(
  reply: FastifyReply,
  status: number,
  render: (nonce: string) => string,
  formTargets: string[] = [],
): FastifyReply {
  const nonce = randomBytes(16).toString('base64')
  const formAction = ["'self'", ...formTargets].join(' ')
  return (
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'self'; img-src 'self'; form-action ${formAction}; base-uri 'none'; frame-ancestors 'none'`,
      )
      .header('x-content-type-options', 'nosniff')
      // A SAMLRequest rides in the URL: never hand it to another site as a Referer.
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(render(nonce))
  )
}
