// Command-line flags of the benchmark. Defaults keep a whole run (SQLite, PostgreSQL, Redis) under a minute here.
import { join } from 'node:path'
import { parseArgs } from 'node:util'

export interface BenchOptions {
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
}

const usage = `pnpm bench [-- flags]        (or: pnpm --filter bench start [flags])

  --rounds N        rounds, contenders interleaved in each (default 40)
  --iterations N    timed calls per contender per round (default 500)
  --warmup N        untimed calls per contender before the first round (default 1000)
  --quick           --rounds 8 --iterations 200 --warmup 300 (a smoke run of a few seconds)
  --only a,b        only contenders whose key contains one of these (e.g. strata,floor)
  --redis URL       default: $REDIS_URL or redis://127.0.0.1:6379
  --postgres URL    a server to create a throwaway database on; default: $DATABASE_URL or
                    postgresql://postgres@127.0.0.1:5432/postgres (row skipped, saying why, if it does not answer)
  --no-postgres     skip the PostgreSQL row
  --out FILE        default: packages/bench/results/latest.json
  -h, --help`

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
  }
}
