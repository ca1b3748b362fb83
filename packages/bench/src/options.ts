// Command-line flags of the benchmark. Defaults keep a whole run (hit path, then the multi-process scenarios)
// around a minute on 2 cores.
import { join } from 'node:path'
import { parseArgs } from 'node:util'

export const scenarioNames = ['hit-path', 'hot-key', 'stampede'] as const
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

  --scenarios a,b   hit-path, hot-key, stampede, or all (default: all)
  --quick           a smoke run: fewer rounds, calls and reads in every scenario
  --redis URL       default: $REDIS_URL or redis://127.0.0.1:6379
  --postgres URL    a server to create throwaway databases on; default: $DATABASE_URL or
                    postgresql://postgres@127.0.0.1:5432/postgres (skipped, saying why, if it does not answer)
  --no-postgres     skip the PostgreSQL row and the multi-process scenarios (they need it)
  --out FILE        default: packages/bench/results/latest.json
  -h, --help

hit path (one process, sequential calls):
  --rounds N        rounds, contenders interleaved in each (default 40; --quick 8)
  --iterations N    timed calls per contender per round (default 500; --quick 200)
  --warmup N        untimed calls per contender before the first round (default 1000; --quick 300)
  --only a,b        only contenders whose key contains one of these (e.g. strata,floor)

multi-process scenarios (hot-key, stampede):
  --processes N         worker processes (default 3)
  --hot-reads N         hot key: reads of process 1 per contender (default 10000; --quick 2000)
  --hot-rounds N        hot key: rounds, contenders interleaved (default 4; --quick 2)
  --write-every N       hot key: process 1 writes the row once every N of its reads (default 500)
  --yield-every N       hot key: each process yields to the event loop after every N reads (default 100)
  --stampede-reads N    stampede: concurrent reads per process (default 1000)
  --stampede-rounds N   stampede: rounds (default 3; --quick 1)
  --shared-redis        use --redis instead of a throwaway redis-server (no server-side command counts)`

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
  return {
    scenarios: readScenarios(values.scenarios),
    rounds: count(values.rounds, 'rounds', quick ? 8 : 40),
    iterations: count(values.iterations, 'iterations', quick ? 200 : 500),
    warmup: count(values.warmup, 'warmup', quick ? 300 : 1000),
    postgresUrl: values['no-postgres']
      ? undefined
      : (values.postgres ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'),
    redisUrl: values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    out: values.out ?? join(benchDir, 'results', 'latest.json'),
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
