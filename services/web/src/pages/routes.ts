import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { renderPage } from './layout.ts'
import {
  endSessionView,
  homeView,
  inviteView,
  loginView,
  notFoundView,
  sessionsView,
  signupView,
  ssoSettingsView,
  workspaceView,
} from './views.ts'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function sendPage(reply: FastifyReply, html: string, status = 200) {
  // Pages show per-person data once their script runs; never let a shared cache keep them.
  return reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html)
}

/** The pages people click; each is a shell whose module script talks to /v1 through the gateway. */
export const pageRoutes: FastifyPluginAsync = async (app) => {
  app.get('/login', async (_request, reply) =>
    sendPage(reply, renderPage({ title: 'Sign in', script: 'login.js', body: loginView })),
  )
  app.get('/signup', async (_request, reply) =>
    sendPage(reply, renderPage({ title: 'Create your account', script: 'signup.js', body: signupView })),
  )
  // The token travels in the fragment (CONTRACT.md), so this page never sees it server-side.
  app.get('/invite', async (_request, reply) =>
    sendPage(reply, renderPage({ title: 'Join a workspace', script: 'invite.js', body: inviteView })),
  )
  // The same for the link that ends one session (the email of a first sign-in through an IdP).
  app.get('/end-session', async (_request, reply) =>
    sendPage(reply, renderPage({ title: 'End a sign-in', script: 'end-session.js', body: endSessionView })),
  )
  app.get('/', async (_request, reply) =>
    sendPage(reply, renderPage({ title: 'Your workspaces', script: 'home.js', body: homeView })),
  )
  app.get('/account/sessions', async (_request, reply) =>
    sendPage(reply, renderPage({ title: 'Your sessions', script: 'sessions.js', body: sessionsView })),
  )
  app.get<{ Params: { workspaceId: string } }>('/workspaces/:workspaceId', async (request, reply) => {
    const { workspaceId } = request.params
    if (!uuidPattern.test(workspaceId)) return sendNotFound(reply)
    return sendPage(
      reply,
      renderPage({
        title: 'Workspace',
        script: 'workspace.js',
        body: workspaceView(workspaceId),
        data: { 'workspace-id': workspaceId },
      }),
    )
  })
  app.get<{ Params: { workspaceId: string } }>('/workspaces/:workspaceId/sso', async (request, reply) => {
    const { workspaceId } = request.params
    if (!uuidPattern.test(workspaceId)) return sendNotFound(reply)
    return sendPage(
      reply,
      renderPage({
        title: 'SSO settings',
        script: 'sso-settings.js',
        body: ssoSettingsView(workspaceId),
        data: { 'workspace-id': workspaceId },
      }),
    )
  })
  // Any other GET a browser makes is a page that does not exist (more specific routes win).
  app.get('/*', async (_request, reply) => sendNotFound(reply))
}

function sendNotFound(reply: FastifyReply) {
  return sendPage(reply, renderPage({ title: 'Page not found', body: notFoundView }), 404)
}
