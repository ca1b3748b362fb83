// Command-line flags of the benchmark. Defaults keep a whole run (every scenario) within a few minutes on 2 cores;
// --quick makes it a smoke run.
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

export const scenarioNames = [
  'hit-path',
  'compare',
  'write-through',
  'memory',
  'hot-key',
  'stampede',
  'app-mix',
  'changes-lag',
] as const
export type ScenarioName = (typeof scenarioNames)[number]

export interface BenchOptions {
  /** Which scenarios run, in this order. */
  scenarios: ScenarioName[]
  /** Rounds; every contender runs one batch per round, in an order that rotates from round to round. */
  rounds: number
  /** Awaited calls per contender per round (each one timed). */
  iterations: number
  /** Untimed calls per contender before the first round. */
  warmup: number
  /** PostgreSQL server to create a throwaway database on, or undefined to skip that row. */
  postgresUrl: string | undefined
  redisUrl: string
  /** Where the JSON results go. */
  out: string
  /** Only the contenders whose key contains one of these (all when empty). */
  only: string[]
  /** The multi-process scenarios (hot-key, stampede). */
  multi: MultiOptions
  /** Strata against prisma-extension-redis and plain Prisma (compare). */
  compare: CompareOptions
  /** Strategy `invalidate` against `write-through` (write-through). */
  writeThrough: { rows: number; ops: number; rounds: number }
  /** Peak RSS with the local tier bounded (memory). */
  memory: { queries: number; maxMiB: number }
  /** An application's reads and writes on posts, users and comments (app-mix). */
  appMix: AppMixOptions
  /** Outside writes followed through the change stream (changes-lag). */
  changes: {
    rate: number
    seconds: number
    probeEvery: number
    instances: number
    /** Prisma's own writes seen twice: operations per contender per round, rounds, share of writes. */
    cost: { ops: number; rounds: number; writeShare: number }
  }
  /** Where the chart goes. */
  chart: string
}

export interface AppMixOptions {
  users: number
  posts: number
  commentsPerPost: number
  /** The exponent of the Zipf distributions of posts and users. */
  zipf: number
  /** Operations per contender (split over `rounds`), and calls in flight. */
  ops: number
  rounds: number
  concurrency: number
  /** Operations of the same mix before counting starts: a cache's steady state, not its first minutes. */
  warmup: number
  /** One read in this many is checked against the database at the end. */
  checkEvery: number
}

export interface CompareOptions {
  /** Latency rounds (point hit, list hit, miss), contenders interleaved in each. */
  rounds: number
  /** Timed calls per contender per round. */
  calls: number
  /**
   * Untimed calls per contender before each latency case: a longer read path takes V8 more calls to optimize (see
   * the README of this package).
   */
  warmup: number
  /** Entries cached before the write + invalidation is timed. */
  entries: number
  /** Timed writes per contender (the entries are cached again before each where a write deleted them). */
  writeRounds: number
  /** 90/10 mix: operations per contender (split over `rounds`), keys read and written, calls in flight. */
  mixOps: number
  mixKeys: number
  mixConcurrency: number
  /** Only the latency cases (hits and misses): no mix, no write. */
  latencyOnly: boolean
}

export interface MultiOptions {
  /** Worker processes, each an "instance" with its own Prisma client and Strata. */
  processes: number
  /** Hot key: timed reads per process per contender, split over `hotRounds` rounds. */
  hotReads: number
  hotRounds: number
  /** Hot key: the first process writes the row once every this many of its reads. */
  writeEvery: number
  /** Hot key: each process yields to the event loop (setImmediate) after every this many reads. */
  yieldEvery: number
  /** Stampede: concurrent reads per process. */
  stampedeReads: number
  stampedeRounds: number
  /** Use `redisUrl` instead of starting a throwaway redis-server (then no server-side command counts). */
  sharedRedis: boolean
}

const usage = `pnpm bench [-- flags]        (or: pnpm --filter bench start [flags])

  --scenarios a,b   hit-path, compare, write-through, memory, hot-key, stampede, app-mix,
                    changes-lag, or all (default: all)
  --quick           a smoke run: fewer rounds, calls and reads in every scenario
  --redis URL       default: $REDIS_URL or redis://127.0.0.1:6379
  --postgres URL    a server to create throwaway databases on; default: $DATABASE_URL or
                    postgresql://postgres@127.0.0.1:5432/postgres (skipped, saying why, if it does not answer)
  --no-postgres     skip the PostgreSQL row and the multi-process scenarios (they need it)
  --out FILE        default: packages/bench/results/latest.json
  --chart FILE      default: chart.svg next to --out
  -h, --help

hit path (one process, sequential calls):
  --rounds N        rounds, contenders interleaved in each (default 40; --quick 8)
  --iterations N    timed calls per contender per round (default 500; --quick 200)
  --warmup N        untimed calls per contender before the first round (default 1000; --quick 300)
  --only a,b        only contenders whose key contains one of these (e.g. strata,floor); the app
                    mix always runs uncached Prisma too (its ideal and ratios are made of it)

multi-process scenarios (hot-key, stampede):
  --processes N         worker processes (default 3)
  --hot-reads N         hot key: reads of process 1 per contender (default 10000; --quick 2000)
  --hot-rounds N        hot key: rounds, contenders interleaved (default 4; --quick 2)
  --write-every N       hot key: process 1 writes the row once every N of its reads (default 500)
  --yield-every N       hot key: each process yields to the event loop after every N reads (default 100)
  --stampede-reads N    stampede: concurrent reads per process (default 1000)
  --stampede-rounds N   stampede: rounds (default 3; --quick 1)
  --shared-redis        use --redis instead of a throwaway redis-server (no server-side command counts)

compare (Strata, prisma-extension-redis, plain Prisma, on PostgreSQL):
  --compare-rounds N    latency rounds, contenders interleaved (default 15; --quick 5)
  --compare-calls N     timed calls per contender per round (default 200; --quick 100)
  --compare-warmup N    untimed calls per contender before each latency case (default 3000; --quick 1000):
                        enough for V8 to optimize every function of a read path
  --entries N           entries cached before a write is timed (default 100000; --quick 10000)
  --write-rounds N      timed writes per contender (default 7; --quick 3)
  --mix-ops N           90/10 mix: operations per contender (default 4000; --quick 2000)
  --mix-keys N          90/10 mix: rows read and written, Zipf-distributed (default 10000)
  --mix-concurrency N   90/10 mix: operations in flight (default 8)
  --latency-only        only the latency cases (hits, misses side by side): no mix, no write

write-through (strategy invalidate vs write-through, Strata two-tier):
  --wt-rows N           rows per configuration (default 10000; --quick 2000)
  --wt-ops N            operations per configuration, 10% writes (default 10000; --quick 2000)

memory (a child process, local tier bounded):
  --memory-queries N    distinct queries (default 1000000; --quick 100000)
  --memory-max-mib N    the local tier's bound (default 32)

app-mix (posts, users, comments: 90% reads, 10% writes; Prisma, prisma-extension-redis, Strata model / precise):
  --app-ops N           operations per contender (default 8000; --quick 2000)
  --app-concurrency N   operations in flight (default 8)
  --app-warmup N        operations of the same mix before counting starts (default one round: 2000; --quick 1000)

changes-lag (a throwaway cluster with wal_level=logical, from the local PostgreSQL binaries):
  --changes-rate N      outside writes per second (default 1000)
  --changes-seconds N   how long they go on (default 10; --quick 3)
  --changes-probe N     one write in N is a timed probe (default 50)
  --changes-ops N       Prisma writes seen twice: ops per contender per round (default 4000; --quick 1000)`

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, got ${value}`)
  return n
}

export function readOptions(argv: string[], benchDir: string): BenchOptions {
  const { values } = parseArgs({
    // `pnpm bench -- --rounds 3` forwards the `--` itself.
    args: argv.filter((a) => a !== '--'),
    options: {
      scenarios: { type: 'string' },
      processes: { type: 'string' },
      'hot-reads': { type: 'string' },
      'hot-rounds': { type: 'string' },
      'write-every': { type: 'string' },
      'yield-every': { type: 'string' },
      'stampede-reads': { type: 'string' },
      'stampede-rounds': { type: 'string' },
      'shared-redis': { type: 'boolean', default: false },
      'compare-rounds': { type: 'string' },
      'compare-calls': { type: 'string' },
      'compare-warmup': { type: 'string' },
      entries: { type: 'string' },
      'write-rounds': { type: 'string' },
      'mix-ops': { type: 'string' },
      'mix-keys': { type: 'string' },
      'mix-concurrency': { type: 'string' },
      'latency-only': { type: 'boolean', default: false },
      'wt-rows': { type: 'string' },
      'wt-ops': { type: 'string' },
      'memory-queries': { type: 'string' },
      'memory-max-mib': { type: 'string' },
      'app-ops': { type: 'string' },
      'app-concurrency': { type: 'string' },
      'changes-rate': { type: 'string' },
      'changes-seconds': { type: 'string' },
      'changes-probe': { type: 'string' },
      'changes-ops': { type: 'string' },
      'app-warmup': { type: 'string' },
      chart: { type: 'string' },
      rounds: { type: 'string' },
      iterations: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      redis: { type: 'string' },
      postgres: { type: 'string' },
      'no-postgres': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    process.exit(0)
  }
  const quick = values.quick
  const appOps = count(values['app-ops'], 'app-ops', quick ? 2000 : 8000)
  const appRounds = quick ? 2 : 4
  const out = values.out ?? join(benchDir, 'results', 'latest.json')
  return {
    scenarios: readScenarios(values.scenarios),
    rounds: count(values.rounds, 'rounds', quick ? 8 : 40),
    iterations: count(values.iterations, 'iterations', quick ? 200 : 500),
    warmup: count(values.warmup, 'warmup', quick ? 300 : 1000),
    postgresUrl: values['no-postgres']
      ? undefined
      : (values.postgres ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'),
    redisUrl: values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    out,
    chart: values.chart ?? join(dirname(out), 'chart.svg'),
    only: (values.only ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    multi: {
      processes: count(values.processes, 'processes', 3),
      hotReads: count(values['hot-reads'], 'hot-reads', quick ? 2000 : 10_000),
      hotRounds: count(values['hot-rounds'], 'hot-rounds', quick ? 2 : 4),
      writeEvery: count(values['write-every'], 'write-every', 500),
      yieldEvery: count(values['yield-every'], 'yield-every', 100),
      stampedeReads: count(values['stampede-reads'], 'stampede-reads', 1000),
      stampedeRounds: count(values['stampede-rounds'], 'stampede-rounds', quick ? 1 : 3),
      sharedRedis: values['shared-redis'],
    },
    compare: {
      rounds: count(values['compare-rounds'], 'compare-rounds', quick ? 5 : 15),
      calls: count(values['compare-calls'], 'compare-calls', quick ? 100 : 200),
      warmup: count(values['compare-warmup'], 'compare-warmup', quick ? 1000 : 3000),
      entries: count(values.entries, 'entries', quick ? 10_000 : 100_000),
      writeRounds: count(values['write-rounds'], 'write-rounds', quick ? 3 : 7),
      mixOps: count(values['mix-ops'], 'mix-ops', quick ? 2000 : 4000),
      mixKeys: count(values['mix-keys'], 'mix-keys', 10_000),
      mixConcurrency: count(values['mix-concurrency'], 'mix-concurrency', 8),
      latencyOnly: values['latency-only'],
    },
    writeThrough: {
      rows: count(values['wt-rows'], 'wt-rows', quick ? 2000 : 10_000),
      ops: count(values['wt-ops'], 'wt-ops', quick ? 2000 : 10_000),
      rounds: quick ? 2 : 4,
    },
    memory: {
      queries: count(values['memory-queries'], 'memory-queries', quick ? 100_000 : 1_000_000),
      maxMiB: count(values['memory-max-mib'], 'memory-max-mib', 32),
    },
    appMix: {
      users: 1000,
      posts: 10_000,
      commentsPerPost: 3,
      zipf: 1,
      ops: appOps,
      rounds: appRounds,
      concurrency: count(values['app-concurrency'], 'app-concurrency', 8),
      warmup: count(values['app-warmup'], 'app-warmup', Math.ceil(appOps / appRounds)),
      checkEvery: 50,
    },
    changes: {
      rate: count(values['changes-rate'], 'changes-rate', 1000),
      seconds: count(values['changes-seconds'], 'changes-seconds', quick ? 3 : 10),
      probeEvery: count(values['changes-probe'], 'changes-probe', 50),
      instances: 3,
      cost: {
        ops: count(values['changes-ops'], 'changes-ops', quick ? 1000 : 4000),
        rounds: quick ? 1 : 3,
        writeShare: 0.3,
      },
    },
  }
}

function readScenarios(value: string | undefined): ScenarioName[] {
  if (value === undefined || value === 'all') return [...scenarioNames]
  const asked = value.split(',').map((s) => s.trim())
  for (const name of asked) {
    if (!(scenarioNames as readonly string[]).includes(name)) {
      throw new Error(`--scenarios: unknown scenario ${name} (known: ${scenarioNames.join(', ')}, all)`)
    }
  }
  return scenarioNames.filter((name) => asked.includes(name))
}
