// The long consistency run: `pnpm consistency -- --processes 5 --seconds 60 [--kill] [--bound 100] [--provider mysql]`.
// Services as for the tests (REDIS_URL / DATABASE_URL / MYSQL_URL, else Testcontainers, else local binaries); --kill always uses
// a throwaway redis-server. Exits 1 on any violation or problem, and then keeps the operation logs.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { stopAll } from '../services.ts'
import { excerpt, summary } from './checker.ts'
import { checkLogs, type RunMeta, runConsistency, worstExcerpt } from './run.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    provider: { type: 'string', default: 'postgres' },
    processes: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '60' },
    bound: { type: 'string', default: '100' },
    settle: { type: 'string' },
    'write-rate': { type: 'string', default: '15' },
    lanes: { type: 'string', default: '2' },
    users: { type: 'string', default: '2' },
    posts: { type: 'string', default: '3' },
    seed: { type: 'string' },
    kill: { type: 'boolean', default: false },
    'stall-ms': { type: 'string', default: '10' },
    think: { type: 'string', default: '0' },
    cycle: { type: 'string' },
    quiet: { type: 'string' },
    check: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  console.log(`pnpm consistency -- [options]
  --provider P      postgres or mysql (MySQL/MariaDB), the database of the shared rows (default postgres)
  --processes N     worker processes (default 5)
  --seconds S       seconds of reads and writes (default 60)
  --bound MS        staleness bound across processes, and convergence delay (default 100)
  --settle MS       read-only milliseconds after the writes (default max(1000, 5 * bound))
  --write-rate N    writes per second per process while writing (default 15)
  --lanes N         concurrent read loops per process, besides the writer (default 2)
  --think MS        pause of each reader between reads (default 0: readers use all the CPU they get)
  --users N --posts N   shared rows: N users with N posts each (default 2 x 3)
  --seed N          seed of the workers' choices (timing still varies)
  --cycle MS --quiet MS   no process writes in the last QUIET ms of every CYCLE ms (default 500, max(200, 2 * bound))
  --kill            throwaway redis-server; each cycle kill one worker's connections, or every pub/sub connection
  --stall-ms MS     event-loop gaps longer than this are the reader's stalls, not bus delay (default 10)
  --keep-logs       keep the per-process operation logs
  --check DIR       check the kept logs of an earlier run again (with --bound, if given)`)
  process.exit(0)
}

const num = (name: string, value: string | undefined) => {
  const n = Number(value)
  if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got ${value}`)
  return n
}

if (values.check !== undefined) {
  const dir = values.check
  const meta = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunMeta
  const bound = process.argv.includes('--bound') ? num('bound', values.bound) : meta.boundMs
  const { result, others } = checkLogs(dir, meta, bound)
  console.log(summary(result, bound))
  for (const v of result.violations.slice(0, 20)) console.log(excerpt(v, others, meta.origin, bound))
  if (result.staleness.worst) console.log(worstExcerpt(result, others, meta.origin, bound))
  process.exit(result.violations.length === 0 && result.problems.length === 0 ? 0 : 1)
}

const provider = values.provider
if (provider !== 'postgres' && provider !== 'mysql')
  throw new Error(`--provider must be postgres or mysql, got ${provider}`)

try {
  const report = await runConsistency({
    provider,
    processes: num('processes', values.processes),
    writeMs: num('seconds', values.seconds) * 1000,
    boundMs: num('bound', values.bound),
    ...(values.settle !== undefined ? { settleMs: num('settle', values.settle) } : {}),
    writeRate: num('write-rate', values['write-rate']),
    lanes: num('lanes', values.lanes),
    users: num('users', values.users),
    postsPerUser: num('posts', values.posts),
    ...(values.seed !== undefined ? { seed: num('seed', values.seed) } : {}),
    kill: values.kill,
    stallMs: num('stall-ms', values['stall-ms']),
    thinkMs: num('think', values.think),
    ...(values.cycle !== undefined ? { cycleMs: num('cycle', values.cycle) } : {}),
    ...(values.quiet !== undefined ? { quietMs: num('quiet', values.quiet) } : {}),
    keepLogs: values['keep-logs'],
    log: (line) => console.log(`[consistency] ${line}`),
  })
  console.log(report.text)
  console.log(`run: ${(report.runMs / 1000).toFixed(1)} s; ${report.ok ? 'OK' : 'FAILED'}`)
  process.exitCode = report.ok ? 0 : 1
} finally {
  await stopAll()
}
