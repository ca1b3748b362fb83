// The app mix's ceiling: the hit ratio of an ideal cache on the same operations. While uncached Prisma runs, the
// answer of every read is kept per query (its kind and the id it names); a read is an ideal hit when that query
// was answered before and its answer has not changed since. What such a cache misses is compulsory (a query never
// seen) or a true change of the answer; whatever a real cache misses beyond it is imprecision of its invalidation.
import { answerText, describe } from './app-mix-check.ts'
import { type KindName, kindNames, kinds, type Op } from './app-mix-ops.ts'

export interface IdealCounts {
  reads: number
  hits: number
  /** Of the misses, queries never answered before. */
  firstSeen: number
}

export class IdealCeiling {
  private readonly last = new Map<string, string>()
  readonly byKind = Object.fromEntries(kindNames.map((k) => [k, { reads: 0, hits: 0, firstSeen: 0 }])) as Record<
    KindName,
    IdealCounts
  >

  /**
   * Takes the answer of `op`; counts it only when `counted` (the warm-up is seen, not counted). Returns whether the
   * ideal cache would have answered this read.
   */
  observe(op: Op, answer: unknown, counted: boolean): boolean {
    if (kinds[op.kind].write) return false
    const key = describe(op)
    const text = answerText(op, answer)
    const before = this.last.get(key)
    this.last.set(key, text)
    if (counted) {
      const c = this.byKind[op.kind]
      c.reads++
      if (before === text) c.hits++
      else if (before === undefined) c.firstSeen++
    }
    return before === text
  }

  total(): IdealCounts {
    const sum = { reads: 0, hits: 0, firstSeen: 0 }
    for (const c of Object.values(this.byKind)) {
      sum.reads += c.reads
      sum.hits += c.hits
      sum.firstSeen += c.firstSeen
    }
    return sum
  }
}
