// Runs every `*.test.ts` under packages/, services/ and test/ (or under the paths given) with
// node's own test runner, whose closing summary is what CI reads.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const skipped = new Set(['node_modules', '.data', 'bench', 'fixtures'])

function findTests(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    if (skipped.has(entry)) return []
    const path = join(directory, entry)
    if (statSync(path).isDirectory()) return findTests(path)
    return entry.endsWith('.test.ts') ? [path] : []
  })
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['packages', 'services', 'test']
const files = roots.flatMap((path) => {
  const absolute = join(root, path)
  return statSync(absolute).isDirectory() ? findTests(absolute) : [absolute]
})
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`)
  process.exit(1)
}
console.log(
  `node ${process.version}: running ${files.length} test files: ${files.map((file) => relative(root, file)).join(' ')}`,
)

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root },
)
process.exit(result.status ?? 1)
