// The app mix's check: with writes stopped and the bus given time to deliver, every sampled read is made through
// each cache and then through an uncached client on the same database. No write is in flight, so a cache that
// answers differently from the database answered wrong.
import type { AppContender } from './app-mix-contenders.ts'
import { kinds, type Op } from './app-mix-ops.ts'

export interface CheckResult {
  /** Distinct reads checked. */
  checked: number
  /** Of those, how many the cache answered itself (hits, as it counts them). */
  cacheAnswered: number | undefined
  mismatches: number
  /** Mismatches by operation kind (label), where there were any. */
  byKind: Record<string, number>
  /** A few of them: the read, what the cache returned, what the database holds. */
  examples: { op: string; cached: string; database: string }[]
}

/** A read as its query: its kind and the one id it names. */
export function describe(op: Op): string {
  const id = op.kind === 'user-posts' || op.kind === 'user-post-count' ? `user ${op.user}` : `post ${op.post}`
  return `${kinds[op.kind].label}, ${id}`
}

/** Every `every`-th read of `ops`, one per distinct query (the read's kind and the id it names). */
export function sampleReads(ops: Op[], every: number): Op[] {
  const seen = new Map<string, Op>()
  let reads = 0
  for (const op of ops) {
    if (kinds[op.kind].write || reads++ % every !== 0) continue
    seen.set(describe(op), op)
  }
  return [...seen.values()]
}

/** The text two answers are compared by: BigInt as digits, and comments in id order (the query names no order). */
export function answerText(op: Op, value: unknown): string {
  const rows =
    op.kind === 'post-comments' && Array.isArray(value)
      ? [...value].sort((a, b) => (a as { id: number }).id - (b as { id: number }).id)
      : value
  return JSON.stringify(rows, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))
}

/** Reads every op through `c` then through its uncached twin; call only while nothing writes. */
export async function checkReads(c: AppContender, reads: Op[]): Promise<CheckResult> {
  const before = c.counters?.()
  const result: CheckResult = {
    checked: reads.length,
    cacheAnswered: undefined,
    mismatches: 0,
    byKind: {},
    examples: [],
  }
  for (const op of reads) {
    const cached = answerText(op, await kinds[op.kind].run(c.client, op))
    const database = answerText(op, await kinds[op.kind].run(c.truth, op))
    if (cached === database) continue
    result.mismatches++
    const label = kinds[op.kind].label
    result.byKind[label] = (result.byKind[label] ?? 0) + 1
    if (result.examples.length < 5) {
      result.examples.push({ op: describe(op), cached: cached.slice(0, 300), database: database.slice(0, 300) })
    }
  }
  const after = c.counters?.()
  if (before && after) result.cacheAnswered = after.hits - before.hits
  return result
}
