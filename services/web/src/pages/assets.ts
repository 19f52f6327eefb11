import { readFileSync } from 'node:fs'
import type { FastifyPluginAsync } from 'fastify'

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** The files under public/, by name. A fixed list read once: no path from a request reaches the disk. */
export const assetNames = [
  'styles.css',
  'api.js',
  'login.js',
  'signup.js',
  'invite.js',
  'end-session.js',
  'home.js',
  'workspace.js',
  'sso-settings.js',
  'forgot-password.js',
  'reset.js',
  'confirm.js',
  'change-password.js',
  'audit.js',
  'sessions.js',
  'favicon.svg',
] as const

// The services' own returnTo rule, served as is, so the login page accepts exactly what auth does.
const sharedModules = { 'return-to.js': new URL(import.meta.resolve('@gatehouse/server/return-to.js')) }

/** `folder`: web's public/ (a file URL ending in `/`). */
export const assetRoutes: FastifyPluginAsync<{ folder: URL }> = async (app, { folder }) => {
  const assets = new Map<string, { body: Buffer; type: string }>(
    [...assetNames, ...(Object.keys(sharedModules) as (keyof typeof sharedModules)[])].map((name) => {
      const extension = name.slice(name.lastIndexOf('.'))
      const file = name in sharedModules ? sharedModules[name as keyof typeof sharedModules] : new URL(name, folder)
      return [name, { body: readFileSync(file), type: contentTypes[extension] ?? 'text/plain' }]
    }),
  )
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.params.name)
    if (!asset) return reply.status(404).send({ error: 'not_found', message: 'No such asset.' })
    // No build step means no content hashes in names: let browsers revalidate rather than cache long.
    return reply.header('cache-control', 'no-cache').type(asset.type).send(asset.body)
  })
}
