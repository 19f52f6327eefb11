// Loaded into every test file's process by `pnpm test` (scripts/test.ts): the workspace's imports of
// a vendored package load its bundle (vendored-packages.ts) instead of its modules one by one.
// Imports made inside node_modules, the bundles' own included, resolve as ever.
import { readFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const manifest = process.env.TEST_VENDORED_PACKAGES
if (manifest) {
  const { bundles } = JSON.parse(readFileSync(manifest, 'utf8')) as { bundles: Record<string, string> }
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const bundle = bundles[specifier]
      if (bundle && context.parentURL && !context.parentURL.includes('/node_modules/')) {
        return { url: bundle, format: 'module', shortCircuit: true }
      }
      return nextResolve(specifier, context)
    },
  })
}
