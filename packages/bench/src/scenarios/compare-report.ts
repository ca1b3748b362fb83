// The comparison's printed tables: one summary row per contender (medians and ratios to uncached Prisma), then the
// details of the write and the mix.
import { markdownTable, us } from '../report.ts'
import type { LatencyRow } from './compare-latency.ts'
import type { MixRow } from './compare-mix.ts'
import type { WriteRow } from './compare-write.ts'

export function times(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-'
  return `${value < 0.1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(0)}×`
}

export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-'
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)
}

const percent = (value: number | undefined) => (value === undefined ? '-' : `${(value * 100).toFixed(1)}%`)
const count = (value: number | undefined) => (value === undefined ? '-' : Math.round(value).toLocaleString('en-US'))

export interface CompareResults {
  pointHit: LatencyRow[]
  listHit: LatencyRow[]
  miss: LatencyRow[]
  missCold: LatencyRow[]
  write: WriteRow[]
  mix: MixRow[]
}

/** One row per contender: the median of each case and its ratio to Prisma uncached (paired by round). */
export function summaryTable(r: CompareResults, entries: number): string {
  const header = [
    'contender',
    'point hit µs',
    '÷ Prisma',
    'list hit µs',
    '÷ Prisma',
    'miss µs',
    '÷ Prisma',
    `write, ${count(entries)} cached, ms`,
    '÷ Prisma',
    '90/10 ops/s',
    '× Prisma',
    'hit ratio',
  ]
  const rows = r.pointHit.map((p, i) => {
    const list = r.listHit[i] as LatencyRow
    const miss = r.miss[i] as LatencyRow
    const write = r.write.find((w) => w.key === p.key)
    const mix = r.mix.find((m) => m.key === p.key)
    return [
      p.label,
      us(p.summary.median),
      times(p.ratioToPrisma),
      us(list.summary.median),
      times(list.ratioToPrisma),
      us(miss.summary.median),
      times(miss.ratioToPrisma),
      ms(write?.medianMs),
      times(write?.ratioToPrisma),
      count(mix?.opsPerSec),
      times(mix?.ratioToPrisma),
      percent(mix?.hitRatio),
    ]
  })
  // Contenders that ran only the mix (Strata write-through): their mix columns, '-' for the cases they did not run.
  for (const m of r.mix) {
    if (r.pointHit.some((p) => p.key === m.key)) continue
    rows.push([
      m.label,
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      count(m.opsPerSec),
      times(m.ratioToPrisma),
      percent(m.hitRatio),
    ])
  }
  return markdownTable(header, rows)
}

export function writeTable(rows: WriteRow[]): string {
  const header = [
    'contender',
    'entries before',
    'after',
    'first write ms',
    'median ms',
    'ms each',
    'Redis commands per write',
  ]
  return markdownTable(
    header,
    rows.map((w) => [
      w.label,
      count(w.entriesBefore),
      count(w.entriesAfter),
      ms(w.firstMs),
      ms(w.medianMs),
      w.writesMs.map(ms).join(' / '),
      w.redisCommands
        ? Object.entries(w.redisCommands)
            .map(([name, n]) => `${name} ${+(n / w.writesMs.length).toFixed(1)}`)
            .join(', ') || '-'
        : '-',
    ]),
  )
}

export function mixTable(rows: MixRow[]): string {
  const header = ['contender', 'ops/s', 'by round', '× Prisma', 'hit ratio', 'SQL/op', 'read p50 µs', 'read p99 µs']
  header.push('write p50 µs', 'cache errors')
  return markdownTable(
    header,
    rows.map((m) => [
      m.label,
      count(m.opsPerSec),
      m.roundOpsPerSec.map(count).join(' / '),
      times(m.ratioToPrisma),
      percent(m.hitRatio),
      m.sqlPerOp.toFixed(2),
      us(m.read.median),
      us(m.read.p99),
      us(m.write.median),
      m.counters ? String(m.counters.errors) : '-',
    ]),
  )
}

const commandList = (counts: Record<string, number> | undefined) =>
  counts
    ? Object.entries(counts)
        .filter(([, n]) => n >= 0.005)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name} ${n.toFixed(2)}`)
        .join(', ') || '0'
    : '-'

/** The hits side by side with the round-trip floor (one GET and an unpack): what a Redis hit costs beyond it. */
export function hitTable(r: CompareResults): string {
  const header = ['contender', 'point hit µs', '÷ Prisma', '÷ round trip', 'list hit µs', '÷ Prisma', '÷ round trip']
  const rows = r.pointHit
    .filter((p) => p.key !== 'floor')
    .map((p, i) => {
      const list = r.listHit.find((l) => l.key === p.key) ?? (r.listHit[i] as LatencyRow)
      return [
        p.label,
        us(p.summary.median),
        times(p.ratioToPrisma),
        times(p.ratioToRoundTrip),
        us(list.summary.median),
        times(list.ratioToPrisma),
        times(list.ratioToRoundTrip),
      ]
    })
  return markdownTable(header, rows)
}

/**
 * The misses side by side: each contender's median and ratio to Prisma uncached and to the round-trip floor (one
 * GET, then the query), with the versions known in process and not, and the Redis commands a miss costs: sent by
 * the client, and run by the server (scripts' included).
 */
export function missTable(r: CompareResults): string {
  const header = [
    'case',
    'contender',
    'miss µs',
    '÷ Prisma',
    '÷ round trip',
    'sent per miss',
    'run by the server per miss',
  ]
  const rows: string[][] = []
  for (const [label, list] of [
    ['versions known', r.miss],
    ['versions not known', r.missCold],
  ] as const) {
    for (const m of list) {
      if (m.key === 'floor') continue
      rows.push([
        label,
        m.label,
        us(m.summary.median),
        times(m.ratioToPrisma),
        times(m.ratioToRoundTrip),
        commandList(m.sentPerCall),
        commandList(m.redisPerCall),
      ])
    }
  }
  return markdownTable(header, rows)
}
