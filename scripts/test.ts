// Runs every `*.test.ts` under packages/, services/ and test/ (or under the paths given) with
// node's own test runner, whose closing summary (`ℹ tests N`, `ℹ pass N`, `ℹ fail N`) is what CI
// reads. `--coverage`: line, branch and function coverage of the sources, the spawned service
// processes included, printed before that summary.
//
// Files run TEST_CONCURRENCY at a time (default 4: most of a file's time is spent waiting on the
// processes, Postgres and Redis it talks to, so more files than cores keep the machine busy). Each
// file keeps what it writes to itself: unique emails, workspaces and queue names on the shared
// database, and its own database or Redis database where processes of its own consume queues.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'

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

const concurrency = Number(process.env.TEST_CONCURRENCY || 4)
console.log(
  `node ${process.version}: running ${files.length} test files, ${concurrency} at a time: ${files.map((file) => relative(root, file)).join(' ')}`,
)

const coverageFlags = coverage
  ? [
      '--experimental-test-coverage',
      '--test-coverage-exclude=**/node_modules/**',
      '--test-coverage-exclude=**/test/**',
      '--test-coverage-exclude=**/dist/**',
      '--test-coverage-exclude=scripts/**',
    ]
  : []
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...coverageFlags,
    ...files,
  ],
  { stdio: coverage ? ['inherit', 'pipe', 'inherit'] : 'inherit', cwd: root },
)

// The runner prints its coverage table after the summary; CI reads the summary as the closing
// lines, so the table is moved in front of it.
const output = coverage && child.stdout ? createInterface({ input: child.stdout }) : undefined
const summary: string[] = []
let inCoverageReport = false
output?.on('line', (line) => {
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
const [code] = (await once(child, 'close')) as [number | null]
for (const line of summary) process.stdout.write(`${line}\n`)
process.exitCode = code ?? 1
