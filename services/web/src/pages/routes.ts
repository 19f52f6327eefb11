import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { changePasswordView, confirmView, forgotPasswordView, resetView } from './account-views.ts'
import { type PageInput, renderPage, signedInHint } from './layout.ts'
import {
  auditView,
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

/** A page whose script may ask who is signed in: told whether the browser holds a session at all. */
function page(request: FastifyRequest, input: PageInput) {
  return renderPage({ ...input, data: { ...signedInHint(request.headers.cookie), ...input.data } })
}

/** The pages people click; each is a shell whose module script talks to /v1 through the gateway. */
export const pageRoutes: FastifyPluginAsync = async (app) => {
  app.get('/login', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Sign in', script: 'login.js', body: loginView })),
  )
  app.get('/signup', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Create your account', script: 'signup.js', body: signupView })),
  )
  // The token travels in the fragment (CONTRACT.md), so this page never sees it server-side.
  app.get('/invite', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Join a workspace', script: 'invite.js', body: inviteView })),
  )
  app.get('/forgot-password', async (request, reply) =>
    sendPage(
      reply,
      page(request, { title: 'Reset your password', script: 'forgot-password.js', body: forgotPasswordView }),
    ),
  )
  // The same for the link that ends one session (the email of a first sign-in through an IdP).
  app.get('/end-session', async (request, reply) =>
    sendPage(reply, page(request, { title: 'End a sign-in', script: 'end-session.js', body: endSessionView })),
  )
  // Like /invite, the link's token travels in the fragment: these pages never see it server-side.
  app.get('/reset', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Choose a new password', script: 'reset.js', body: resetView })),
  )
  app.get('/confirm', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Confirm your email address', script: 'confirm.js', body: confirmView })),
  )
  app.get('/account/password', async (request, reply) =>
    sendPage(
      reply,
      page(request, { title: 'Change your password', script: 'change-password.js', body: changePasswordView }),
    ),
  )
  // A setup link's page: the workspace's SSO setup and nothing else; its token is in the fragment.
  app.get('/setup', async (_request, reply) =>
    sendPage(
      reply,
      renderPage({
        title: 'Set up SSO',
        script: 'sso-settings.js',
        body: ssoSettingsView(null),
        data: { setup: 'true', 'signed-in': 'false' },
      }),
    ),
  )
  app.get('/', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Your workspaces', script: 'home.js', body: homeView })),
  )
  app.get('/account/sessions', async (request, reply) =>
    sendPage(reply, page(request, { title: 'Your sessions', script: 'sessions.js', body: sessionsView })),
  )
  const workspacePage = (path: string, input: (workspaceId: string) => Pick<PageInput, 'title' | 'script' | 'body'>) =>
    app.get<{ Params: { workspaceId: string } }>(path, async (request, reply) => {
      const { workspaceId } = request.params
      if (!uuidPattern.test(workspaceId)) return sendNotFound(reply)
      return sendPage(reply, page(request, { ...input(workspaceId), data: { 'workspace-id': workspaceId } }))
    })
  workspacePage('/workspaces/:workspaceId', (id) => ({
    title: 'Workspace',
    script: 'workspace.js',
    body: workspaceView(id),
  }))
  workspacePage('/workspaces/:workspaceId/sso', (id) => ({
    title: 'SSO settings',
    script: 'sso-settings.js',
    body: ssoSettingsView(id),
  }))
  workspacePage('/workspaces/:workspaceId/audit', (id) => ({
    title: 'Audit trail',
    script: 'audit.js',
    body: auditView(id),
  }))
  // Any other GET a browser makes is a page that does not exist (more specific routes win).
  app.get('/*', async (_request, reply) => sendNotFound(reply))
}

function sendNotFound(reply: FastifyReply) {
  return sendPage(reply, renderPage({ title: 'Page not found', body: notFoundView }), 404)
}
