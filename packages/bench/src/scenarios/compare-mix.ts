// The comparison's 90/10 mix: point reads (`findUnique` by id) and writes (`update` by id) over many rows, rows
// drawn from a Zipf distribution (a few hot rows, a long tail), `concurrency` calls in flight. Every contender runs
// the same sequence of operations (same seed) in each round; rounds interleave contenders, the order rotating.
import { Rng } from '../../../../test/support/differential/random.ts'
import { fullGc, pairedRatio, Samples, type Summary } from '../measure.ts'
import type { Check } from '../report.ts'
import { type CompareContender, type Contenders, strataCounters } from './compare-contenders.ts'
import { zipf } from './zipf.ts'

export interface MixRow {
  key: string
  label: string
  /** Operations per second of each round, and their median. */
  roundOpsPerSec: number[]
  opsPerSec: number
  /** Throughput ÷ Prisma uncached's, paired by round. */
  ratioToPrisma: number
  /** Hits over hits + misses, as the cache counts them. */
  hitRatio: number | undefined
  counters: { hits: number; misses: number; errors: number } | undefined
  /** SQL statements per operation (reads and writes). */
  sqlPerOp: number
  read: Summary
  write: Summary
}

/** `n` operations: [row index, write?], row indexes Zipf-distributed (s = 1) over `keys`. */
export function operations(n: number, keys: number, writeShare: number, seed: number): [number, boolean][] {
  const index = zipf(keys)
  const rng = new Rng(seed)
  return Array.from({ length: n }, () => [index(rng.next()), rng.next() < writeShare])
}

/** Runs `ops` through one contender with `concurrency` in flight; returns the wall-clock ms. */
async function run(
  c: CompareContender,
  ops: [number, boolean][],
  ids: number[],
  concurrency: number,
  samples: { read: Samples; write: Samples },
): Promise<number> {
  let next = 0
  const lane = async () => {
    while (next < ops.length) {
      const [index, write] = ops[next++] as [number, boolean]
      const id = ids[index] as number
      const t0 = performance.now()
      if (write) await c.posts.update({ where: { id }, data: { views: next } })
      else await c.posts.findUnique({ where: { id } })
      ;(write ? samples.write : samples.read).push((performance.now() - t0) * 1000)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, lane))
  return performance.now() - start
}

export async function runMix(
  contenders: Contenders,
  options: { ids: number[]; ops: number; rounds: number; concurrency: number; writeShare: number },
): Promise<{ rows: MixRow[]; checks: Check[] }> {
  // The mix is point reads and writes by id: what `strategy: 'write-through'` is for, so it runs here as well.
  const writeThrough = await contenders.openStrata({
    redis: contenders.redis,
    prefix: `${contenders.strataPrefixes.twoTier}-wt`,
    models: { Post: { strategy: 'write-through' } },
  })
  const list: CompareContender[] = [
    ...contenders.list,
    {
      key: 'strata.write-through',
      label: 'Strata write-through',
      description: "`cache({ redis, models: { Post: { strategy: 'write-through' } } })`: writes put the row.",
      ...writeThrough,
      counters: strataCounters(writeThrough.strata),
      resetCounters: () => writeThrough.strata.resetStats(),
    },
  ]
  const perRound = Math.ceil(options.ops / options.rounds)
  const mix = (seed: number) => operations(perRound, options.ids.length, options.writeShare, seed)
  // Warm-up: one untimed round each (fills what a cache fills), then every counter from zero.
  const warm = { read: new Samples(perRound), write: new Samples(perRound) }
  for (const c of list) {
    await run(c, mix(0), options.ids, options.concurrency, warm)
    c.resetCounters?.()
    c.sql.reset()
  }
  const done = perRound * options.rounds
  const samples = new Map<string, { read: Samples; write: Samples; rounds: Samples }>(
    list.map((c) => [
      c.key,
      { read: new Samples(done), write: new Samples(done), rounds: new Samples(options.rounds) },
    ]),
  )
  for (let round = 0; round < options.rounds; round++) {
    const ops = mix(round + 1)
    for (let i = 0; i < list.length; i++) {
      const c = list[(i + round) % list.length] as CompareContender
      const s = samples.get(c.key) as { read: Samples; write: Samples; rounds: Samples }
      fullGc() // untimed: no contender pays for another's garbage
      const ms = await run(c, ops, options.ids, options.concurrency, s)
      // One "sample" per round: µs per operation, so pairedRatio compares rounds like the latency cases.
      s.rounds.push((ms * 1000) / ops.length)
      s.rounds.endBatch()
    }
    process.stderr.write(`mix: round ${round + 1}/${options.rounds}\r`)
  }
  process.stderr.write('\n')

  const of = (key: string) => samples.get(key) as { read: Samples; write: Samples; rounds: Samples }
  const rows = list.map((c): MixRow => {
    const s = of(c.key)
    const perOp = Array.from(s.rounds.values())
    const counters = c.counters?.()
    const cached = counters ? counters.hits + counters.misses : 0
    return {
      key: c.key,
      label: c.label,
      roundOpsPerSec: perOp.map((us) => Math.round(1e6 / us)),
      opsPerSec: 1e6 / s.rounds.summary().median,
      // µs per operation of Prisma ÷ this contender's: throughput relative to Prisma's.
      ratioToPrisma: pairedRatio(of('prisma').rounds, s.rounds),
      hitRatio: counters && cached > 0 ? counters.hits / cached : undefined,
      counters,
      sqlPerOp: c.sql.count() / done,
      read: s.read.summary(),
      write: s.write.summary(),
    }
  })
  const checks: Check[] = rows
    .filter((r) => r.counters)
    .map((r) => ({
      ok: r.counters?.errors === 0,
      text: `mix: ${r.label} counted ${r.counters?.errors} cache errors`,
    }))
  return { rows, checks }
}
