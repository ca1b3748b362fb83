// The app mix's printed tables: one row per contender (throughput, hit ratio, the check), then p50/p99 of every
// operation kind side by side.
import type { Summary } from '../measure.ts'
import { markdownTable, us } from '../report.ts'
import type { CheckResult } from './app-mix-check.ts'
import type { KindCounters } from './app-mix-contenders.ts'
import type { IdealCeiling } from './app-mix-ideal.ts'
import { type KindName, kindNames, kinds } from './app-mix-ops.ts'
import { times } from './compare-report.ts'

export interface AppMixRow {
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
  /** Hits and misses per read kind, where the cache counts them so. */
  byKind: Partial<Record<KindName, KindCounters>> | undefined
  /** SQL statements per operation (reads and writes). */
  sqlPerOp: number
  latency: Record<KindName, Summary>
  check: CheckResult | undefined
}

const percent = (value: number | undefined) => (value === undefined ? '-' : `${(value * 100).toFixed(1)}%`)
const count = (value: number | undefined) => (value === undefined ? '-' : Math.round(value).toLocaleString('en-US'))

export function appMixTable(rows: AppMixRow[]): string {
  const header = ['contender', 'ops/s', 'by round', '× Prisma', 'hit ratio', 'SQL/op', 'cache errors']
  header.push('checked reads', 'cache answered', 'mismatches')
  return markdownTable(
    header,
    rows.map((r) => [
      r.label,
      count(r.opsPerSec),
      r.roundOpsPerSec.map(count).join(' / '),
      times(r.ratioToPrisma),
      percent(r.hitRatio),
      r.sqlPerOp.toFixed(2),
      r.counters ? String(r.counters.errors) : '-',
      count(r.check?.checked),
      count(r.check?.cacheAnswered),
      count(r.check?.mismatches),
    ]),
  )
}

/** One row per operation kind; per contender its p50 and p99 in µs. */
export function latencyTable(rows: AppMixRow[]): string {
  const header = ['operation', 'share', ...rows.map((r) => `${r.label} p50 / p99 µs`)]
  return markdownTable(
    header,
    kindNames.map((name) => [
      kinds[name].label,
      `${(kinds[name].share * 100).toFixed(1)}%`,
      ...rows.map((r) => `${us(r.latency[name].median)} / ${us(r.latency[name].p99)}`),
    ]),
  )
}

const ratioOf = (c: KindCounters | undefined) =>
  c === undefined || c.hits + c.misses === 0 ? undefined : c.hits / (c.hits + c.misses)

/**
 * Hit ratio per read kind: the ideal cache's (a miss only for a query never answered before or whose answer
 * changed), then each cache's that counts by operation.
 */
export function hitTable(rows: AppMixRow[], ideal: IdealCeiling): string {
  const counting = rows.filter((r) => r.byKind)
  const header = ['read', 'share', 'ideal', 'of its misses: first seen', ...counting.map((r) => r.label)]
  const line = (
    label: string,
    share: string,
    c: { reads: number; hits: number; firstSeen: number },
    of: (r: AppMixRow) => number | undefined,
  ) => [
    label,
    share,
    percent(c.reads === 0 ? undefined : c.hits / c.reads),
    percent(c.reads === c.hits ? undefined : c.firstSeen / (c.reads - c.hits)),
    ...counting.map((r) => percent(of(r))),
  ]
  const reads = kindNames.filter((k) => !kinds[k].write)
  return markdownTable(header, [
    ...reads.map((k) =>
      line(kinds[k].label, `${(kinds[k].share * 100).toFixed(1)}%`, ideal.byKind[k], (r) => ratioOf(r.byKind?.[k])),
    ),
    line(
      'all reads',
      `${(reads.reduce((n, k) => n + kinds[k].share, 0) * 100).toFixed(1)}%`,
      ideal.total(),
      (r) => r.hitRatio,
    ),
  ])
}
