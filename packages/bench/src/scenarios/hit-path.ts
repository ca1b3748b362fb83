// Strata's hit path against what it replaces and against the floor of every query-extension cache, in one process:
// contenders interleaved round by round so they share the machine's noise; latency of sequential awaited calls.
import { type Contender, setup } from '../contenders.ts'
import { pairedRatio, Samples, type Summary, timed, timerOverhead, untimed } from '../measure.ts'
import type { BenchOptions } from '../options.ts'
import { type Check, checks, table } from '../report.ts'

/** A comparable text of a row: Decimal, BigInt and bytes as text, so decoded copies compare equal to the original. */
function normalize(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return `${v}n`
    if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`
    if (v && typeof v === 'object' && v.constructor?.name === 'Decimal') return `decimal:${String(v)}`
    return v
  })
}

export interface Result {
  key: string
  label: string
  role: Contender['role']
  description: string
  summary: Summary
  /** This row ÷ uncached findUnique (SQLite), paired round by round (see `pairedRatio`): the table's column. */
  ratioToFindUnique: number | undefined
  /** This row ÷ the query-extension floor (errorFormat minimal), paired round by round: the table's column. */
  ratioToQueryFloor: number | undefined
  /** The same two ratios taken between the overall medians instead. */
  ratioOfMedians: { findUnique: number | undefined; queryFloor: number | undefined }
  /** Median of each round's batch, µs. */
  roundMedians: number[]
  strataStats?: unknown
}

/** Runs the hit-path rounds, prints the table and checks, and returns what goes into results/latest.json. */
export async function runHitPath(options: BenchOptions) {
  console.log(
    `Hit path: ${options.rounds} rounds × ${options.iterations} calls per contender (warm-up ${options.warmup})`,
  )
  const bench = await setup(options)
  try {
    const contenders = bench.contenders.filter(
      (c) => options.only.length === 0 || options.only.some((o) => c.key.includes(o)),
    )
    for (const s of bench.skipped) console.log(`skipped ${s.key}: ${s.reason}`)

    // Warm-up: fills the caches (the first Strata call is a miss), lets V8 optimise every path.
    for (const c of contenders) await untimed(c.call, options.warmup)
    for (const c of contenders) {
      if (c.returnsRow && normalize(await c.call()) !== normalize(bench.row)) {
        throw new Error(`${c.key} returned something other than the row:\n${normalize(await c.call())}`)
      }
      c.strata?.resetStats()
    }

    const overhead = await timerOverhead()
    const samples = new Map(contenders.map((c) => [c.key, new Samples(options.rounds * options.iterations)]))
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round: no contender always runs right after the same neighbour (or a GC).
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[(i + round) % contenders.length] as Contender
        await timed(c.call, options.iterations, samples.get(c.key) as Samples)
      }
      process.stderr.write(`round ${round + 1}/${options.rounds}\r`)
    }
    process.stderr.write('\n')

    const summaries = new Map(contenders.map((c) => [c.key, (samples.get(c.key) as Samples).summary()]))
    /** `a` ÷ `b`, paired round by round; undefined if either was not measured. */
    const paired = (a: string, b: string) => {
      const sa = samples.get(a)
      const sb = samples.get(b)
      return sa && sb ? pairedRatio(sa, sb) : undefined
    }
    const baseline = summaries.get('sqlite.findUnique')?.median
    const floor = summaries.get('floor.query.minimal')?.median
    const results: Result[] = contenders.map((c) => {
      const summary = summaries.get(c.key) as Summary
      return {
        key: c.key,
        label: c.label,
        role: c.role,
        description: c.description,
        summary,
        ratioToFindUnique: paired(c.key, 'sqlite.findUnique'),
        ratioToQueryFloor: paired(c.key, 'floor.query.minimal'),
        ratioOfMedians: {
          findUnique: baseline ? summary.median / baseline : undefined,
          queryFloor: floor ? summary.median / floor : undefined,
        },
        roundMedians: (samples.get(c.key) as Samples).batchMedians.map((m) => Math.round(m * 1000) / 1000),
        strataStats: c.strata?.stats(),
      }
    })
    const verdicts: Check[] = checks(contenders, summaries, paired, options.rounds * options.iterations)

    console.log()
    console.log(table(results))
    console.log()
    console.log(
      `timer overhead (performance.now() ×2 + await of a resolved promise): median ${overhead.median.toFixed(2)} µs, included in every row`,
    )
    for (const v of verdicts) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)

    return {
      options: { rounds: options.rounds, iterations: options.iterations, warmup: options.warmup, only: options.only },
      setup: bench.info,
      timerOverheadUs: overhead.median,
      units:
        'microseconds per call (sequential awaited calls); opsPerSec = samples / sum of call times; ' +
        'ratios: median over rounds of the ratio of the two rows’ round medians',
      results,
      skipped: bench.skipped,
      checks: verdicts,
    }
  } finally {
    await bench.close()
  }
}
