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
  // Shells with nothing of their own on the server. Link pages (/invite, /end-session, /reset,
  // /confirm) carry their token in the fragment (CONTRACT.md), so they never see it server-side.
  const shells: [path: string, title: string, script: string, body: string][] = [
    ['/login', 'Sign in', 'login.js', loginView],
    ['/signup', 'Create your account', 'signup.js', signupView],
    ['/invite', 'Join a workspace', 'invite.js', inviteView],
    ['/forgot-password', 'Reset your password', 'forgot-password.js', forgotPasswordView],
    ['/end-session', 'End a sign-in', 'end-session.js', endSessionView],
    ['/reset', 'Choose a new password', 'reset.js', resetView],
    ['/confirm', 'Confirm your email address', 'confirm.js', confirmView],
    ['/account/password', 'Change your password', 'change-password.js', changePasswordView],
  ]
  for (const [path, title, script, body] of shells) {
    app.get(path, async (request, reply) => sendPage(reply, page(request, { title, script, body })))
  }
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
