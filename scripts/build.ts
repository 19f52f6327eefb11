// `pnpm build`: what production runs. Each program becomes one ES module, `dist/server.mjs` beside
// its `src/` (esbuild; `pnpm bench runtime` measured it against tsx and Node's type stripping:
// a quarter of the start-up CPU and half the memory, see README "Runtime"). The bundle sits at the
// depth of `src/server.ts`, so the files a program locates from a module directly under `src/`
// (migrations at `../drizzle`, web's `../public/`) resolve the same from it.
import { copyFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { build, type Plugin } from 'esbuild'

const root = new URL('..', import.meta.url).pathname

export const programs = {
  auth: 'services/auth',
  invitation: 'services/invitation',
  web: 'services/web',
  'dev-idp': 'packages/dev-idp',
} as const
export type Program = keyof typeof programs

/** Modules a program starts worker threads on; each lands beside the bundle as `<name>.mjs`. */
const workerEntries: Partial<Record<Program, string[]>> = {
  auth: ['src/sso/idp-config-worker.ts'],
}

/** Files a module reads from its own folder, copied beside the bundle where that module's reference lands. */
const filesBesideBundle: Partial<Record<Program, string[]>> = {
  auth: ['src/accounts/common-passwords.txt'],
}

// Packages that read files next to themselves (native addons, WebAssembly, swagger-ui's pages) stay
// out of the bundle and are imported from node_modules by a path relative to the bundle: the
// image installs the same lockfile at the same place, so the path holds there too.
export const unbundled = /^(@node-rs\/argon2|@electric-sql\/pglite|msgpackr-extract|@fastify\/swagger-ui)(\/|$)/
export function importFromNodeModules(outdir: string): Plugin {
  return {
    name: 'import-from-node-modules',
    setup(builder) {
      builder.onResolve({ filter: unbundled }, async (args) => {
        if (args.pluginData === 'resolving') return undefined
        const resolved = await builder.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'resolving',
        })
        // Optional native speed-ups (msgpackr-extract) may be absent: left to their importer's fallback.
        if (resolved.errors.length > 0) return { path: args.path, external: true }
        return { path: `./${relative(outdir, resolved.path)}`, external: true }
      })
    },
  }
}

/** Bundles the programs named (all by default); returns each one's `dist/server.mjs`. */
export async function buildPrograms(names: Program[] = Object.keys(programs) as Program[]): Promise<string[]> {
  const outfiles: string[] = []
  for (const name of names) {
    const directory = join(root, programs[name])
    const outfile = join(directory, 'dist', 'server.mjs')
    // Each entry (the program, its worker threads' modules) becomes one module in dist/.
    for (const entry of ['src/server.ts', ...(workerEntries[name] ?? [])]) {
      await bundle(join(directory, entry), join(directory, 'dist', `${basename(entry, '.ts')}.mjs`))
    }
    for (const file of filesBesideBundle[name] ?? []) {
      copyFileSync(join(directory, file), join(dirname(outfile), file.slice(file.lastIndexOf('/') + 1)))
    }
    outfiles.push(outfile)
  }
  return outfiles
}

async function bundle(entry: string, outfile: string) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node26',
    sourcemap: 'linked',
    plugins: [importFromNodeModules(dirname(outfile))],
    // CommonJS dependencies inside an ES module still call require() and read __dirname.
    banner: {
      js: [
        "import { createRequire } from 'node:module';",
        'const require = createRequire(import.meta.url);',
        'const __filename = import.meta.filename;',
        'const __dirname = import.meta.dirname;',
      ].join(' '),
    },
    logLevel: 'warning',
  })
}

if (import.meta.main) {
  const wanted = process.argv.slice(2) as Program[]
  const unknown = wanted.filter((name) => !(name in programs))
  if (unknown.length > 0) {
    console.error(`unknown program: ${unknown.join(', ')} (one of ${Object.keys(programs).join(', ')})`)
    process.exit(1)
  }
  for (const outfile of await buildPrograms(wanted.length > 0 ? wanted : undefined)) {
    console.log(relative(root, outfile))
  }
}
