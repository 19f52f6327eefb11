// The third-party packages the programs' sources import, bundled for the test files' processes.
//
// A test file loads a service's app from its TypeScript sources, and with it some 1,500 modules of
// node_modules one by one: resolving each (Node re-reads the package.json scope of every module it
// resolves, and drizzle-orm's is 179 KB), compiling and linking it cost an auth test file ~0.7 s
// of its ~4 s of CPU. `pnpm test` bundles those packages once per run (esbuild, split into shared
// chunks so each package is loaded once per process) and the test files' processes load them from
// there (vendored-packages-hook.ts), while the workspace's own modules still load from source, as
// the coverage report needs.
//
// Vendored are the bare imports of the workspace's `src/` files that resolve to one file from every
// workspace importer, except what the programs' bundles leave out too (packages that read files
// beside themselves). Test-only packages load from node_modules as they are.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { importFromNodeModules, unbundled } from '../../scripts/build.ts'

const root = new URL('../../', import.meta.url).pathname
const outdir = join(root, 'node_modules', '.cache', 'test-vendor')
/** Bare specifier → file URL of its bundle, read by vendored-packages-hook.ts. */
export const vendoredPackagesManifest = join(outdir, 'manifest.json')

// Node's conditions beyond the ones esbuild adds itself (node, import or require, default), so a
// vendored package is the build Node would load.
const conditions = ['module-sync']

/** Bundles the vendored packages unless the bundles of the same packages are there already. */
export async function buildVendoredPackages(): Promise<void> {
  const vendored = await vendoredImports()
  const key = createHash('sha256')
    .update(readFileSync(join(root, 'pnpm-lock.yaml')))
    .update(readFileSync(new URL(import.meta.url)))
    // What it leaves out of the bundles (`unbundled`) is scripts/build.ts's.
    .update(readFileSync(join(root, 'scripts', 'build.ts')))
    .update(JSON.stringify([...vendored]))
    .digest('hex')
  if (existsSync(vendoredPackagesManifest)) {
    const built = JSON.parse(readFileSync(vendoredPackagesManifest, 'utf8')) as { key?: string }
    if (built.key === key) return
  }

  rmSync(outdir, { recursive: true, force: true })
  const entriesDirectory = join(outdir, 'entries')
  mkdirSync(entriesDirectory, { recursive: true })
  const entryPoints: { in: string; out: string }[] = []
  const specifiers: string[] = []
  for (const [specifier, source] of await reExports(vendored)) {
    specifiers.push(specifier)
    const out = specifier.replace(/[^a-zA-Z0-9]+/g, '_')
    const entry = join(entriesDirectory, `${out}.mjs`)
    writeFileSync(entry, source)
    entryPoints.push({ in: entry, out })
  }
  await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node26',
    conditions,
    outExtension: { '.js': '.mjs' },
    plugins: [importFromNodeModules(outdir)],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  })
  const bundles = Object.fromEntries(
    entryPoints.map(({ out }, index) => [specifiers[index], pathToFileURL(join(outdir, `${out}.mjs`)).href]),
  )
  writeFileSync(vendoredPackagesManifest, JSON.stringify({ key, bundles }))
}

/**
 * The vendored specifiers and the file each resolves to: the bare imports of the workspace's
 * `src/` files, found by following their imports (esbuild, nothing written).
 */
async function vendoredImports(): Promise<Map<string, string>> {
  const resolutions = new Map<string, Set<string>>()
  const importedBySource = new Set<string>()
  const collect: Plugin = {
    name: 'collect-bare-imports',
    setup(builder) {
      builder.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || isBuiltin(args.path) || args.path.startsWith('@gatehouse/')) {
          return undefined
        }
        const resolved = await builder.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'resolving',
        })
        if (resolved.errors.length === 0 && !unbundled.test(args.path)) {
          resolutions.set(args.path, (resolutions.get(args.path) ?? new Set()).add(resolved.path))
          if (/\/src\//.test(relative(root, args.importer))) importedBySource.add(args.path)
        }
        return { path: args.path, external: true }
      })
    },
  }
  await build({
    entryPoints: workspaceFiles(),
    bundle: true,
    write: false,
    outdir,
    platform: 'node',
    format: 'esm',
    conditions,
    plugins: [collect],
    logLevel: 'error',
  })
  const vendored = new Map<string, string>()
  for (const specifier of [...importedBySource].sort()) {
    const paths = [...(resolutions.get(specifier) ?? [])]
    // Two versions of one package in the workspace: each importer keeps its own, from node_modules.
    if (paths.length === 1 && paths[0]) vendored.set(specifier, paths[0])
  }
  return vendored
}

/** The `src/` and test files of every workspace package, the entry points whose imports are followed. */
function workspaceFiles(): string[] {
  const skipped = new Set(['node_modules', 'dist', '.data', 'fixtures', 'public'])
  const walk = (directory: string): string[] =>
    readdirSync(directory).flatMap((entry) => {
      if (skipped.has(entry)) return []
      const path = join(directory, entry)
      if (statSync(path).isDirectory()) return walk(path)
      return entry.endsWith('.ts') ? [path] : []
    })
  return ['packages', 'services', 'test'].flatMap((folder) => walk(join(root, folder)))
}

/**
 * For each vendored specifier, an entry module exporting what Node's own loading of it exports.
 * A CommonJS module's names are the ones Node finds in it, taken from Node itself, since esbuild
 * can only re-export them one by one. A package that needs another loaded first (@peculiar/x509
 * wants reflect-metadata's global) is tried again after the others; one that still fails to load
 * on its own stays out, loaded from node_modules.
 */
async function reExports(vendored: Map<string, string>): Promise<Map<string, string>> {
  const entries = new Map<string, string>()
  const retried: [string, string][] = []
  for (const [specifier, path] of vendored) {
    try {
      entries.set(specifier, reExport(path, await import(pathToFileURL(path).href)))
    } catch {
      retried.push([specifier, path])
    }
  }
  // A module that failed is not evaluated again at the same URL: the query makes it a new one.
  for (const [specifier, path] of retried) {
    try {
      entries.set(specifier, reExport(path, await import(`${pathToFileURL(path).href}?again`)))
    } catch {
      // Loaded from node_modules as it is.
    }
  }
  return entries
}

function reExport(path: string, namespace: Record<string, unknown>): string {
  const source = JSON.stringify(path)
  if (!('module.exports' in namespace)) {
    return `export * from ${source}\n${'default' in namespace ? `export { default } from ${source}\n` : ''}`
  }
  const names = Object.keys(namespace).filter((name) => name !== 'default' && /^[A-Za-z_$][\w$]*$/.test(name))
  return `import exported from ${source}\nexport default exported\nexport const { ${names.join(', ')} } = exported\n`
}
