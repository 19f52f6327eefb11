// Runs every `*.test.ts` under packages/, services/ and test/ (or under the paths given) with
// node's own test runner, whose closing summary (`ℹ tests N`, `ℹ pass N`, `ℹ fail N`) is what CI
// reads. `--coverage`: line, branch and function coverage of the sources the test files run in
// their own processes (not of the programs they start), printed before that summary, as is a table
// of the slowest files.
//
// Files run TEST_CONCURRENCY at a time (default 4: most of a file's time is spent waiting on the
// processes, Postgres and Redis it talks to, so more files than cores keep the machine busy),
// the longest first (see `byExpectedLength`). Each file keeps what it writes to itself: unique
// emails, workspaces and queue names on the shared database, and its own database or Redis
// database where processes of its own consume queues.
//
// Test files run on Node's own type stripping, not tsx (which compiled every module at each start,
// 1–2 s of CPU per file); the programs they start run from `pnpm build`'s bundles, built once here
// (test/support/processes.ts), and the third-party packages the sources import are bundled once
// for the test files' processes (test/support/vendored-packages.ts). Node's compile cache keeps
// the compiled code of all of them between processes. TEST_SLOWEST=N lists the N slowest files (15).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { PassThrough } from 'node:stream'
import { finished } from 'node:stream/promises'
import { run } from 'node:test'
import { spec } from 'node:test/reporters'
import { buildVendoredPackages, vendoredPackagesManifest } from '../test/support/vendored-packages.ts'
import { buildPrograms } from './build.ts'

const root = new URL('..', import.meta.url).pathname
const skipped = new Set(['node_modules', '.data', 'bench', 'fixtures', 'dist'])

function findTests(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    if (skipped.has(entry)) return []
    const path = join(directory, entry)
    if (statSync(path).isDirectory()) return findTests(path)
    return entry.endsWith('.test.ts') ? [path] : []
  })
}

// The same defaults as @gatehouse/testing's postgresUrl and redisUrl.
const services = [
  {
    name: 'PostgreSQL',
    variable: 'DATABASE_URL',
    url: new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'),
    defaultPort: 5432,
    start: 'infra/local/start-postgres.sh',
    // An SSLRequest: every PostgreSQL answers it with one byte, S or N, before any authentication.
    hello: Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]),
    answered: (reply: Buffer) => reply[0] === 0x53 || reply[0] === 0x4e,
  },
  {
    name: 'Redis',
    variable: 'REDIS_URL',
    url: new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379'),
    defaultPort: 6379,
    start: 'infra/local/start-redis.sh',
    hello: Buffer.from('PING\r\n'),
    // +PONG, or an error such as -NOAUTH: either way a Redis answered.
    answered: (reply: Buffer) => reply[0] === 0x2b || reply[0] === 0x2d,
  },
]

/** Whether the server behind `service` answers its protocol's greeting within 2 s. */
function answers(service: (typeof services)[number]): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(Number(service.url.port || service.defaultPort), service.url.hostname)
    const done = (answered: boolean) => {
      socket.destroy()
      resolveAnswer(answered)
    }
    socket.setTimeout(2_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write(service.hello))
    socket.once('data', (reply: Buffer) => done(service.answered(reply)))
  })
}

const args = process.argv.slice(2)
const coverage = args.includes('--coverage')
const paths = args.filter((arg) => arg !== '--coverage')
const roots = paths.length > 0 ? paths : ['packages', 'services', 'test']
const files = roots.flatMap((path) => {
  const absolute = join(root, path)
  return statSync(absolute).isDirectory() ? findTests(absolute) : [absolute]
})
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`)
  process.exit(1)
}

// Without them every test would fail on its own, minutes of ECONNREFUSED: one line instead.
for (const service of services) {
  if (!(await answers(service))) {
    console.error(
      `pnpm test: ${service.name} does not answer at ${service.url.host || service.url.hostname} (${service.variable}); start it (${service.start}) or set ${service.variable}`,
    )
    process.exit(1)
  }
}

const building = Date.now()
await Promise.all([buildPrograms(), buildVendoredPackages()])
process.env.TEST_PROGRAMS_BUILT = '1'
process.env.TEST_VENDORED_PACKAGES = vendoredPackagesManifest
console.log(`built the programs and the vendored packages in ${((Date.now() - building) / 1000).toFixed(1)} s`)
// Every test file and program compiles the same modules: compiled once, kept for the next ones.
process.env.NODE_COMPILE_CACHE ||= join(root, 'node_modules', '.cache', 'node-compile')

const concurrency = Number(process.env.TEST_CONCURRENCY || 4)
const ordered = byExpectedLength(files)
console.log(
  `node ${process.version}: running ${files.length} test files, ${concurrency} at a time: ${ordered.map((file) => relative(root, file)).join(' ')}`,
)

// Each file's process records its wall time and CPU there as it exits (test/support/file-usage.ts).
const usageDirectory = mkdtempSync(join(tmpdir(), 'gatehouse-test-usage-'))
const usageFile = join(usageDirectory, 'files.jsonl')
process.env.TEST_USAGE_FILE = usageFile

// The runner's own API rather than `node --test`, which sorts the files by name: the run starts them
// in the order given.
const testEvents = run({
  files: ordered,
  concurrency,
  cwd: root,
  execArgv: [
    '--import',
    join(root, 'test/support/file-usage.ts'),
    '--import',
    join(root, 'test/support/vendored-packages-hook.ts'),
  ],
  coverage,
  coverageExcludeGlobs: ['**/node_modules/**', '**/test/**', '**/dist/**', 'scripts/**'],
})
let passed = false
testEvents.on('test:summary', (summary) => {
  // The run's own summary is the one without a file.
  if (summary.file === undefined) passed = summary.success
})

// CI reads the runner's summary as the closing lines: the coverage table (which the runner prints
// after it) and the table of the slowest files go in front of it.
const report = testEvents.compose(spec).pipe(new PassThrough())
const summary: string[] = []
let inCoverageReport = false
createInterface({ input: report }).on('line', (line) => {
  if (line.startsWith('ℹ start of coverage report')) inCoverageReport = true
  if (inCoverageReport) {
    if (line.startsWith('ℹ end of coverage report')) inCoverageReport = false
    process.stdout.write(`${line}\n`)
  } else if (summary.length > 0 || /^ℹ tests \d+$/.test(line)) {
    summary.push(line)
  } else {
    process.stdout.write(`${line}\n`)
  }
})
await finished(report)
process.stdout.write(slowestFiles(Number(process.env.TEST_SLOWEST || 15)))
for (const line of summary) process.stdout.write(`${line}\n`)
rmSync(usageDirectory, { recursive: true, force: true })
process.exitCode = passed ? 0 : 1

/**
 * The files that take longest first, so the run does not end with one long file alone on the
 * machine while the others are done: the whole-stack files under test/ (each starts several
 * service processes, a browser or an IdP), then the services' (many start apps and processes of
 * their own), then the packages' (mostly in-process). Within a tier, one file of each folder in
 * turn: four browser stacks starting at once on two cores were not ready within their minute.
 */
function byExpectedLength(testFiles: string[]): string[] {
  const tiers = ['test/', 'services/', 'packages/']
  const tierOf = (file: string) => {
    const index = tiers.findIndex((prefix) => relative(root, file).startsWith(prefix))
    return index === -1 ? tiers.length : index
  }
  return [0, 1, 2, 3].flatMap((tier) => {
    const folders = new Map<string, string[]>()
    for (const file of testFiles.filter((candidate) => tierOf(candidate) === tier).sort()) {
      const folder = dirname(file)
      folders.set(folder, [...(folders.get(folder) ?? []), file])
    }
    const queues = [...folders.values()]
    const longest = Math.max(0, ...queues.map((queue) => queue.length))
    return Array.from({ length: longest }, (_, turn) => queues.flatMap((queue) => queue[turn] ?? [])).flat()
  })
}

interface FileUsage {
  file: string
  wallMs: number
  cpuMs: number
  childrenCpuMs: number
}

/** The `count` files that took longest, with their CPU, and the CPU of all files together. */
function slowestFiles(count: number): string {
  let usage: FileUsage[]
  try {
    usage = readFileSync(usageFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as FileUsage)
  } catch {
    return ''
  }
  const seconds = (milliseconds: number) => (milliseconds / 1000).toFixed(1).padStart(6)
  const totalCpu = usage.reduce((sum, file) => sum + file.cpuMs + file.childrenCpuMs, 0)
  const lines = usage
    .sort((a, b) => b.wallMs - a.wallMs)
    .slice(0, count)
    .map(
      (file) =>
        `${seconds(file.wallMs)} ${seconds(file.cpuMs)} ${seconds(file.childrenCpuMs)}   ${relative(root, file.file)}`,
    )
  return [
    `slowest ${lines.length} of ${usage.length} test files (seconds: wall, CPU of the file's process, CPU of the programs it started; all files: ${seconds(totalCpu).trim()} s CPU)`,
    '  wall    own  started',
    ...lines,
    '',
  ].join('\n')
}
