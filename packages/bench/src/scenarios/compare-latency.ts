// The comparison's latency cases: a point read that hits, a list read with relations that hits, and a read that
// misses (unique arguments every call). Sequential awaited calls, contenders interleaved round by round (the order
// rotating), ratios paired by round.
import { pairedRatio, Samples, type Summary, timed, untimed } from '../measure.ts'
import type { Check } from '../report.ts'
import { type CompareContender, type Contenders, listArgs, type Posts } from './compare-contenders.ts'

export interface LatencyCase {
  key: 'pointHit' | 'listHit' | 'miss'
  label: string
  /** One call; `n` is distinct for every call of the run. */
  call(posts: Posts, n: number): PromiseLike<unknown>
  expect: 'hit' | 'miss'
}

export interface LatencyRow {
  key: string
  label: string
  summary: Summary
  /** ÷ Prisma uncached and ÷ the query-extension floor, paired by round. */
  ratioToPrisma: number
  ratioToFloor: number
  /** SQL statements sent per timed call. */
  sqlPerCall: number
  /** The cache's own counts over the timed calls. */
  counters: { hits: number; misses: number; errors: number } | undefined
  roundMedians: number[]
}

export function latencyCases(rows: { hot: number; authorId: number }): LatencyCase[] {
  return [
    {
      key: 'pointHit',
      label: 'point read, hit',
      call: (posts) => posts.findUnique({ where: { id: rows.hot } }),
      expect: 'hit',
    },
    {
      key: 'listHit',
      label: 'list read with relations, hit',
      call: (posts) => posts.findMany(listArgs(rows.authorId)),
      expect: 'hit',
    },
    {
      key: 'miss',
      label: 'miss (new arguments each call)',
      // Always the same row, but never the same query: every cache misses, then fills.
      call: (posts, n) => posts.findFirst({ where: { id: rows.hot, views: { lt: 1_000_000_000 + n } } }),
      expect: 'miss',
    },
  ]
}

const text = (value: unknown) => JSON.stringify(value)
let counter = 0

/** Runs one case over every contender; returns its rows and checks. */
export async function runLatencyCase(
  c: LatencyCase,
  contenders: Contenders,
  options: { rounds: number; calls: number; warmup: number },
): Promise<{ rows: LatencyRow[]; checks: Check[] }> {
  const list = contenders.list
  const expected = await c.call(list[0]?.posts as Posts, counter++)
  contenders.floorAnswer.value = c.expect === 'hit' ? expected : undefined
  const checks: Check[] = []
  try {
    for (const x of list) await untimed(() => c.call(x.posts, counter++), options.warmup)
    for (const x of list) {
      const same = text(await c.call(x.posts, counter++)) === text(expected)
      if (!same) checks.push({ ok: false, text: `${c.label}: ${x.label} returned another result than Prisma` })
      x.resetCounters?.()
      x.sql.reset()
    }
    const samples = new Map<string, Samples>(list.map((x) => [x.key, new Samples(options.rounds * options.calls)]))
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < list.length; i++) {
        const x = list[(i + round) % list.length] as CompareContender
        await timed(() => c.call(x.posts, counter++), options.calls, samples.get(x.key) as Samples)
      }
      process.stderr.write(`${c.label}: round ${round + 1}/${options.rounds}\r`)
    }
    process.stderr.write('\n')
    const measured = options.rounds * options.calls
    const of = (key: string) => samples.get(key) as Samples
    const rows = list.map((x) => ({
      key: x.key,
      label: x.label,
      summary: of(x.key).summary(),
      ratioToPrisma: pairedRatio(of(x.key), of('prisma')),
      ratioToFloor: pairedRatio(of(x.key), of('floor')),
      sqlPerCall: x.sql.count() / measured,
      counters: x.counters?.(),
      roundMedians: of(x.key).batchMedians.map((m) => Math.round(m * 1000) / 1000),
    }))
    checks.push(...latencyChecks(c, rows, measured))
    return { rows, checks }
  } finally {
    contenders.floorAnswer.value = undefined
  }
}

/** Every cache hit (or missed) each timed call, as it counts them and as the database saw. */
function latencyChecks(c: LatencyCase, rows: LatencyRow[], measured: number): Check[] {
  const out: Check[] = []
  for (const r of rows) {
    if (!r.counters) continue
    const { hits, misses, errors } = r.counters
    const ok =
      c.expect === 'hit'
        ? hits === measured && misses === 0 && r.sqlPerCall === 0
        : misses === measured && r.sqlPerCall >= 1
    out.push({
      ok: ok && errors === 0,
      text:
        `${c.label}: ${r.label} counted ${hits} hits, ${misses} misses, ${errors} errors over ${measured} calls; ` +
        `${r.sqlPerCall.toFixed(2)} SQL statements per call`,
    })
  }
  return out
}
