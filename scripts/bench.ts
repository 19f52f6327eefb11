// `pnpm bench`: runs every benchmark under test/bench (or those named), one process each, so
// that one benchmark's heap and JIT state never colour another's figures.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const benchDir = join(root, 'test', 'bench')
const wanted = process.argv.slice(2)
const files = readdirSync(benchDir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.includes(name)))
  .sort()

let failed = 0
for (const file of files) {
  console.log(`\n== ${file}`)
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(benchDir, file)], {
    stdio: 'inherit',
    cwd: root,
  })
  if (result.status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
