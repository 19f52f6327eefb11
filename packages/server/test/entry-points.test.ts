import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { build } from 'esbuild'

const packageRoot = new URL('..', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('package.json', packageRoot), 'utf8')) as {
  exports: Record<string, string>
  dependencies: Record<string, string>
}
const dependencies = new Set(Object.keys(manifest.dependencies))

/** The package's own dependencies an entry point loads, read from esbuild's module graph of it. */
async function dependenciesLoadedBy(entryPoint: string): Promise<string[]> {
  const result = await build({
    entryPoints: [new URL(entryPoint, packageRoot).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outdir: 'unused',
  })
  const loaded = new Set<string>()
  for (const input of Object.keys(result.metafile.inputs)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1]
    if (name !== undefined && dependencies.has(name)) loaded.add(name)
    if (input.includes('packages/db/')) loaded.add('@gatehouse/db')
  }
  return [...loaded].sort()
}

// What each concern may load: importing one never drags in another's dependencies (the SAML core
// importing the email validator must not load Fastify or ioredis).
const allowed: Record<string, string[]> = {
  './bounded-cache': [],
  './email': [],
  './errors': [],
  './failures': [],
  './html': [],
  './http': [
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    '@fastify/helmet',
    '@fastify/swagger',
    '@fastify/swagger-ui',
    '@fastify/under-pressure',
    'ajv-formats',
    'fastify',
    'fastify-plugin',
    'ioredis',
    'prom-client',
    'typebox',
  ],
  './internal': ['typebox'],
  './process': ['close-with-grace'],
  './redis': ['ioredis'],
  './redis-keys': [],
  './return-to.js': [],
  './sealed-token': [],
  './service': ['@gatehouse/db', 'close-with-grace', 'ioredis'],
  './timeout': [],
  './worker-pool': [],
  './xml-text': [],
}

describe("@gatehouse/server's entry points", () => {
  it('are one per concern, with no root barrel', () => {
    assert.deepEqual(Object.keys(manifest.exports).sort(), Object.keys(allowed).sort())
  })

  for (const [subpath, expected] of Object.entries(allowed)) {
    it(`${subpath} loads only its own dependencies`, async () => {
      assert.deepEqual(await dependenciesLoadedBy(manifest.exports[subpath] as string), expected)
    })
  }
})
