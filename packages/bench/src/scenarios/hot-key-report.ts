// The hot-key scenario's numbers: per process and in total, its table and its checks.
import { type Summary, summarize } from '../measure.ts'
import { type Check, markdownTable, us } from '../report.ts'
import type { Event, HotKeyMode, HotKeyReport } from '../workers/hot-key.ts'

export interface Row {
  reads: number
  writes: number
  /** Redis GETs sent per read (entry lookups), and every Redis command per read. */
  getsPerRead: number | undefined
  commandsPerRead: number | undefined
  /** Share of reads the in-process tier answered. */
  localHitRatio: number | undefined
  /** SQL statements sent by reads (counted below Prisma), and by writes. */
  dbReadQueries: number
  dbWriteQueries: number
  latency: Summary
  /** Reads per second of wall-clock time (total: the sum over processes, which ran at the same time). */
  readsPerSec: number
  /** Ms from a write's return in process 1 to a read of the new value here (other processes only). */
  lagMs: { count: number; p50: number; max: number } | undefined
  /** Ms from a write's return in process 1 to its invalidation message reaching this process (Strata only). */
  busMs: { count: number; p50: number; max: number } | undefined
}

export interface ProcessRow extends Row {
  process: number
  redis: Record<string, number> | undefined
  strata: Record<string, unknown> | undefined
  /** Writer: reads that returned an older value than its own last write. */
  ownStale: number
  /** The value a read returned after the rounds and a quiet pause. */
  finalSeq: number
}

export interface ContenderResult {
  mode: HotKeyMode
  label: string
  processes: ProcessRow[]
  total: Row
  /** Commands the Redis server counted during this contender's runs (INFO commandstats), when it was ours alone. */
  server: Record<string, number> | undefined
  /** The last value written. */
  lastWrite: number
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

function lagOf(seen: Event[], written: Event[]): number[] {
  const done = new Map(written.map(([round, seq, at]) => [`${round}:${seq}`, at]))
  const lags: number[] = []
  for (const [round, seq, at] of seen) {
    const writtenAt = done.get(`${round}:${seq}`)
    if (writtenAt !== undefined) lags.push(at - writtenAt)
  }
  return lags
}

/** The k-th message on the bus is the k-th write (only process 1 writes, and only in timed runs). */
function busLagOf(arrivals: number[] | undefined, written: Event[]): number[] {
  return (arrivals ?? []).flatMap((at, k) => (written[k] ? [at - (written[k] as Event)[2]] : []))
}

function lagSummary(lags: number[]): Row['lagMs'] {
  if (lags.length === 0) return undefined
  const sorted = [...lags].sort((a, b) => a - b)
  return { count: sorted.length, p50: sorted[Math.floor(sorted.length / 2)] as number, max: sorted.at(-1) as number }
}

export function summarizeContender(reports: HotKeyReport[], server: Record<string, number> | undefined) {
  const written = reports[0]?.written ?? []
  const strata = reports[0]?.strata !== undefined
  const lags = reports.map((r, i) => (i === 0 ? [] : lagOf(r.seen, written)))
  const busLags = reports.map((r, i) => (i === 0 ? [] : busLagOf(r.busArrivals, written)))
  const processes: ProcessRow[] = reports.map((r, i) => {
    const gets = r.redis?.get ?? 0
    const commands = sum(Object.values(r.redis ?? {}))
    return {
      process: i + 1,
      reads: r.reads,
      writes: r.writes,
      getsPerRead: strata ? gets / r.reads : undefined,
      commandsPerRead: strata ? commands / r.reads : undefined,
      localHitRatio: strata ? Number(r.strata?.localHits) / r.reads : undefined,
      dbReadQueries: r.readQueries,
      dbWriteQueries: r.writeQueries,
      latency: r.latency,
      readsPerSec: r.reads / (r.runMs / 1000),
      lagMs: lagSummary(lags[i] as number[]),
      busMs: lagSummary(busLags[i] as number[]),
      redis: r.redis,
      strata: r.strata,
      ownStale: r.ownStale,
      finalSeq: r.finalSeq,
    }
  })
  const reads = sum(processes.map((p) => p.reads))
  const total: Row = {
    reads,
    writes: sum(processes.map((p) => p.writes)),
    getsPerRead: strata ? sum(reports.map((r) => r.redis?.get ?? 0)) / reads : undefined,
    commandsPerRead: strata ? sum(reports.map((r) => sum(Object.values(r.redis ?? {})))) / reads : undefined,
    localHitRatio: strata ? sum(reports.map((r) => Number(r.strata?.localHits))) / reads : undefined,
    dbReadQueries: sum(processes.map((p) => p.dbReadQueries)),
    dbWriteQueries: sum(processes.map((p) => p.dbWriteQueries)),
    latency: summarize(Float64Array.from(reports.flatMap((r) => r.samples))),
    readsPerSec: sum(processes.map((p) => p.readsPerSec)),
    lagMs: lagSummary(lags.flat()),
    busMs: lagSummary(busLags.flat()),
  }
  return { processes, total, server, lastWrite: written.at(-1)?.[1] ?? 0 }
}

const fixed = (value: number | undefined, digits: number) => (value === undefined ? '-' : value.toFixed(digits))
const percent = (value: number | undefined) => (value === undefined ? '-' : `${(value * 100).toFixed(2)}%`)
const int = (value: number) => Math.round(value).toLocaleString('en-US')

export function hotKeyTable(contenders: ContenderResult[]): string {
  const header = ['contender', 'process', 'reads', 'writes', 'GET/read', 'cmds/read', 'local hits', 'DB reads']
  header.push('p50 µs', 'p99 µs', 'reads/s', 'bus p50 ms', 'lag p50 ms', 'lag max ms')
  const line = (label: string, name: string, r: Row) => [
    label,
    name,
    int(r.reads),
    int(r.writes),
    fixed(r.getsPerRead, 4),
    fixed(r.commandsPerRead, 4),
    percent(r.localHitRatio),
    int(r.dbReadQueries),
    us(r.latency.median),
    us(r.latency.p99),
    int(r.readsPerSec),
    fixed(r.busMs?.p50, 2),
    fixed(r.lagMs?.p50, 2),
    fixed(r.lagMs?.max, 2),
  ]
  const rows = contenders.flatMap((c) => [
    ...c.processes.map((p) => line(p.process === 1 ? c.label : '', `${p.process}${p.writes ? ' (writes)' : ''}`, p)),
    line('', 'total', c.total),
  ])
  return markdownTable(header, rows, 2)
}

export function hotKeyChecks(contenders: ContenderResult[]): Check[] {
  const out: Check[] = []
  const of = (mode: HotKeyMode) => contenders.find((c) => c.mode === mode)
  const twoTier = of('two-tier')
  const redisOnly = of('redis-only')
  const prisma = of('prisma')
  if (twoTier) {
    const t = twoTier.total
    out.push({
      ok: (t.getsPerRead as number) < 0.05,
      text: `two-tier: ${fixed(t.getsPerRead, 4)} Redis GETs per read (far below 1: local hits between writes)`,
    })
    const bound = twoTier.processes.length * t.writes
    out.push({
      ok: t.dbReadQueries <= bound,
      text: `two-tier: ${t.dbReadQueries} database reads for ${t.writes} writes (at most one per write per process: ${bound})`,
    })
  }
  if (redisOnly) {
    const g = redisOnly.total.getsPerRead as number
    out.push({ ok: g >= 0.99 && g <= 1.01, text: `Redis only: ${fixed(g, 4)} GETs per read (one per read)` })
  }
  if (prisma) {
    const t = prisma.total
    out.push({ ok: t.dbReadQueries === t.reads, text: `plain Prisma: ${t.dbReadQueries} queries for ${t.reads} reads` })
  }
  for (const c of contenders) {
    const finals = c.processes.map((p) => p.finalSeq)
    out.push({
      ok: finals.every((f) => f === c.lastWrite),
      text: `${c.label}: every process reads the last write (v${c.lastWrite}) after a quiet pause: ${finals.map((f) => `v${f}`).join(', ')}`,
    })
    if (c.processes[0]?.strata) {
      const errors: Record<string, number> = {}
      for (const p of c.processes) {
        for (const [code, n] of Object.entries((p.strata?.errors ?? {}) as Record<string, number>)) {
          errors[code] = (errors[code] ?? 0) + n
        }
      }
      const none = Object.keys(errors).length === 0
      out.push({ ok: none, text: `${c.label}: cache errors: ${none ? 'none' : JSON.stringify(errors)}` })
    }
    const own = c.processes[0]?.ownStale ?? 0
    out.push({ ok: own === 0, text: `${c.label}: process 1 never read older than its own last write (${own} times)` })
    if (c.server && c.total.getsPerRead !== undefined) {
      const clientGets = Math.round(c.total.getsPerRead * c.total.reads)
      out.push({
        ok: c.server.get === clientGets,
        text: `${c.label}: Redis server counted ${c.server.get ?? 0} GETs, the workers sent ${clientGets}`,
      })
    }
  }
  return out
}
