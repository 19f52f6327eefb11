// Loaded into every test file's process by `pnpm test` (scripts/test.ts): when the file's process
// exits, appends one JSON line to TEST_USAGE_FILE with the file, its wall time and its CPU (its
// own, and that of the programs it started and waited for: services, browsers, IdPs), for the
// run's table of the slowest files.
import { appendFileSync } from 'node:fs'
import { ownUsage } from './cpu.ts'

const usageFile = process.env.TEST_USAGE_FILE
const testFile = process.argv[1]
if (usageFile && testFile?.endsWith('.test.ts')) {
  process.once('exit', () => {
    appendFileSync(usageFile, `${JSON.stringify({ file: testFile, ...ownUsage() })}\n`)
  })
}
