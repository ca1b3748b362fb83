// Property checks over the operation logs of a multi-process run (test/consistency.test.ts). Pure: no I/O, no clock.
//
// Every write increments one row's `views` and returns the new value, so the writes of a row are totally ordered by
// the value they return (PostgreSQL serializes them on the row lock), and a read of that row "sees write w or a later
// one" exactly when it returns a value >= w's. Times are milliseconds on one clock shared by every process of the
// machine (CLOCK_MONOTONIC, see worker.ts). The properties:
//   (a) read-your-writes: a read that starts after its own process's write returned returns that value or a later one;
//   (b) bounded staleness: a read that starts more than `boundMs` after another process's write returned sees it
//       (except in windows where Redis connections were killed: from the kill until Redis shows every process
//       connected and subscribed again, plus the bound);
//   (c) convergence: a read that starts more than `boundMs` after the last write returned returns the final value;
//   (d) no invention: every value read is the row's initial value or a value some write returned.
// Staleness of one observation = how long before the read started the first write of another process it missed had
// returned (0 when it missed none), not counting the time the reader's process was stalled (its event loop did not
// turn at all, so it could not apply a bus message: descheduled on a loaded machine, a GC pause; see worker.ts). That
// is the bus delay as the reader lived it; "more than `boundMs` after" in (b) and (c) is measured the same way. The
// raw staleness (stalls included) is reported next to it.

export interface WriteOp {
  kind: 'write'
  /** Process index. */
  p: number
  /** Concurrent loop inside the process. */
  lane: number
  /** Which write form (post.update, nested user.update, $queryRaw...). */
  op: string
  /** Started and returned, in ms. */
  s: number
  e: number
  row: number
  /** `views` after this write. */
  value: number
}

export interface ReadOp {
  kind: 'read'
  p: number
  lane: number
  op: string
  s: number
  e: number
  /** What the read returned: [row, views], views null when the row was missing from the result. */
  obs: Array<[number, number | null]>
}

export interface ErrorOp {
  kind: 'error'
  p: number
  lane: number
  op: string
  s: number
  e: number
  message: string
}

/** A process's invalidation bus went down (`up: false`) or came back, as the process saw it. */
export interface BusEvent {
  kind: 'bus'
  p: number
  t: number
  up: boolean
}

/** A process's event loop did not turn from `from` to `to` (its timer fired that late): it could not run at all. */
export interface StallEvent {
  kind: 'stall'
  p: number
  from: number
  to: number
}

export type LogEntry = WriteOp | ReadOp | ErrorOp | BusEvent | StallEvent

/** The harness killed Redis connections at `t` (before sending the command). */
export interface KillEvent {
  t: number
  what: string
  /** Subscriptions to the bus channel the kill removed (Redis PUBSUB NUMSUB before and after). */
  dropped: number
  /** When Redis showed every process connected and subscribed again; undefined if it never did. */
  restored?: number
}

export interface CheckInput {
  entries: LogEntry[]
  kills?: KillEvent[]
  /** `views` of every row before the run. */
  initial: Record<number, number>
  /** `views` of every row after the run, read from the database without the cache; checked against the logs. */
  final?: Record<number, number>
  boundMs: number
}

export type Property = 'a' | 'b' | 'c' | 'd'

export const propertyNames: Record<Property, string> = {
  a: 'read-your-writes',
  b: 'bounded staleness',
  c: 'convergence',
  d: 'no invented values',
}

export interface Violation {
  property: Property
  message: string
  read: ReadOp
  row: number
  value: number | null
  /** The write the read should have seen (a, b), if any. */
  write?: WriteOp
}

export interface CheckResult {
  reads: number
  writes: number
  errors: number
  observations: number
  processes: number[]
  /** Violations by property; `violations` keeps the first `keep` in full. */
  counts: Record<Property, number>
  violations: Violation[]
  /** Log-level problems (not a property, but the run proves nothing with them): errors, gaps, unexercised checks. */
  problems: string[]
  staleness: {
    /** Largest staleness of an observation outside the exempt windows, and the read and write behind it. */
    max: number
    worst?: { read: ReadOp; write: WriteOp; raw: number }
    /** Largest staleness with the reader's stalls counted, outside the exempt windows. */
    maxRaw: number
    /** Largest inside the exempt windows (after bus connections were killed). */
    maxExempt: number
    /** Observations that missed a write of another process (staleness > 0), outside the windows. */
    staleObservations: number
    /** 99th percentile of the positive staleness values, outside the windows. */
    p99: number
  }
  /** Windows in which (b) is not checked: [kill, every process reconnected and resubscribed + bound]. */
  exempt: Array<[number, number]>
  /** Reads that started after the last write returned plus the bound: the ones (c) checks. */
  convergenceReads: number
  lastWriteEnd: number
  /** Stalls of each process's event loop: how many, their total and the longest, in ms. */
  stalls: Record<number, { count: number; total: number; longest: number }>
}

/** The stalls of one process, sorted, with running totals: how long it was stalled between two times. */
class StallTimeline {
  private readonly from: Float64Array
  private readonly to: Float64Array
  /** before[i]: total stalled time of stalls 0..i-1. */
  private readonly before: Float64Array

  constructor(stalls: StallEvent[]) {
    const sorted = [...stalls].sort((x, y) => x.from - y.from)
    this.from = Float64Array.from(sorted, (s) => s.from)
    this.to = Float64Array.from(sorted, (s) => s.to)
    this.before = new Float64Array(sorted.length + 1)
    sorted.forEach((s, i) => {
      this.before[i + 1] = (this.before[i] as number) + (s.to - s.from)
    })
  }

  /** Stalled time up to `t`. */
  private upTo(t: number): number {
    let lo = 0
    let hi = this.from.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.from[mid] as number) < t) lo = mid + 1
      else hi = mid
    }
    if (lo === 0) return 0
    const last = lo - 1
    return (this.before[last] as number) + Math.min(t, this.to[last] as number) - (this.from[last] as number)
  }

  /** Time between `a` and `b` (a <= b) that the process was not stalled. */
  running(a: number, b: number): number {
    return b - a - (this.upTo(b) - this.upTo(a))
  }
}

interface RowWrites {
  writes: WriteOp[]
  values: number[]
  /** suffixMin[p][i]: smallest end time among process p's writes at index >= i (by value); arg: its index. */
  suffixMin: Map<number, Float64Array>
  suffixArg: Map<number, Int32Array>
}

function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

/** First index in ascending `values` whose value is greater than `v`. */
function firstAbove(values: number[], v: number): number {
  let lo = 0
  let hi = values.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((values[mid] as number) > v) hi = mid
    else lo = mid + 1
  }
  return lo
}

function indexRows(writes: WriteOp[], processes: number[], problems: string[]): Map<number, RowWrites> {
  const rows = new Map<number, WriteOp[]>()
  for (const w of writes) {
    entry(rows, w.row, () => [] as WriteOp[]).push(w)
  }
  const out = new Map<number, RowWrites>()
  for (const [row, list] of rows) {
    list.sort((x, y) => x.value - y.value)
    for (let i = 1; i < list.length; i++) {
      if ((list[i] as WriteOp).value === (list[i - 1] as WriteOp).value) {
        problems.push(`row ${row}: two writes returned views=${(list[i] as WriteOp).value} (writes are not ordered)`)
      }
    }
    const n = list.length
    const suffixMin = new Map<number, Float64Array>()
    const suffixArg = new Map<number, Int32Array>()
    for (const p of processes) {
      const min = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY)
      const arg = new Int32Array(n + 1).fill(-1)
      for (let i = n - 1; i >= 0; i--) {
        const w = list[i] as WriteOp
        if (w.p === p && w.e < (min[i + 1] as number)) {
          min[i] = w.e
          arg[i] = i
        } else {
          min[i] = min[i + 1] as number
          arg[i] = arg[i + 1] as number
        }
      }
      suffixMin.set(p, min)
      suffixArg.set(p, arg)
    }
    out.set(row, { writes: list, values: list.map((w) => w.value), suffixMin, suffixArg })
  }
  return out
}

/**
 * Where (b) is not checked: from each kill until Redis shows every process connected and subscribed again, plus the
 * bound. Every process is exempt, not only those that dropped: a write made while its process's Redis connection was
 * down reaches the others only once that connection is back. (A process trusts its local entries again only once it
 * has the reply to its SUBSCRIBE, which comes after Redis registered it; until then its reads ask Redis for versions.)
 */
function exemptWindows(
  kills: KillEvent[],
  bus: BusEvent[],
  boundMs: number,
  problems: string[],
): Array<[number, number]> {
  const windows: Array<[number, number]> = []
  for (const kill of [...kills].sort((x, y) => x.t - y.t)) {
    if (kill.dropped === 0) problems.push(`the kill "${kill.what}" dropped no subscription: it tested nothing`)
    if (kill.restored === undefined)
      problems.push(`after the kill "${kill.what}", not every process reconnected and resubscribed`)
    windows.push([kill.t, (kill.restored ?? Number.POSITIVE_INFINITY) + boundMs])
  }
  // A process's bus going down outside a kill is a fault of the run (or of Strata), not something to excuse.
  for (const e of bus) {
    if (!e.up && !kills.some((k) => e.t >= k.t && e.t <= (k.restored ?? Number.POSITIVE_INFINITY))) {
      problems.push(`process ${e.p}'s bus dropped at ${e.t.toFixed(1)} without a kill`)
    }
  }
  return windows
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

/** What the checker needs before it sees the reads: everything but them. */
export interface CheckSetup {
  writes: WriteOp[]
  bus: BusEvent[]
  errors: ErrorOp[]
  stalls?: StallEvent[]
  kills?: KillEvent[]
  initial: Record<number, number>
  final?: Record<number, number>
  boundMs: number
  /** Violations kept in full (all are counted). Default 50. */
  keep?: number
}

/** Checks reads one at a time (`observe`), so a long run's reads need not all be in memory at once. */
export class Checker {
  private readonly boundMs: number
  private readonly keep: number
  private readonly problems: string[] = []
  private readonly rows: Map<number, RowWrites>
  private readonly processes: number[]
  private readonly exempt: Array<[number, number]>
  private readonly finalOf = new Map<number, number>()
  private readonly initial: Record<number, number>
  private readonly lastWriteEnd: number
  private readonly settled: number
  private readonly counts: Record<Property, number> = { a: 0, b: 0, c: 0, d: 0 }
  private readonly violations: Violation[] = []
  private readonly readers = new Set<number>()
  private readonly convergenceSeen = new Map<number, Set<number>>()
  private readonly positive: number[] = []
  private reads = 0
  private observations = 0
  private convergenceReads = 0
  private maxStale = 0
  private maxRaw = 0
  private worst: CheckResult['staleness']['worst']
  private maxExempt = 0
  private readonly timelines = new Map<number, StallTimeline>()
  private readonly noStalls = new StallTimeline([])

  constructor(private readonly setup: CheckSetup) {
    const { writes, errors, boundMs } = setup
    this.boundMs = boundMs
    this.keep = setup.keep ?? 50
    this.initial = setup.initial
    for (const error of errors.slice(0, 5)) {
      this.problems.push(`process ${error.p} ${error.op} threw: ${error.message}`)
    }
    if (errors.length > 5) this.problems.push(`... ${errors.length} operations threw in all`)
    // Every process that may have written; readers are added as they come (a process with no write has no row).
    this.processes = [...new Set(writes.map((w) => w.p))].sort((x, y) => x - y)
    this.rows = indexRows(writes, this.processes, this.problems)
    this.exempt = exemptWindows(setup.kills ?? [], setup.bus, boundMs, this.problems)
    // The logs must account for every increment: written values of a row are exactly initial+1..final.
    for (const key of Object.keys(setup.initial)) {
      const row = Number(key)
      const initial = setup.initial[row] as number
      const values = this.rows.get(row)?.values ?? []
      const last = values.length > 0 ? (values[values.length - 1] as number) : initial
      this.finalOf.set(row, last)
      if (values.length > 0 && (values[0] !== initial + 1 || last - initial !== values.length)) {
        this.problems.push(
          `row ${row}: ${values.length} writes logged, values ${values[0]}..${last} from ${initial}: gaps`,
        )
      }
      const db = setup.final?.[row]
      if (db !== undefined && db !== last) {
        this.problems.push(`row ${row}: the database holds ${db}, the logs end at ${last}`)
      }
    }
    for (const row of this.rows.keys()) {
      if (!this.finalOf.has(row)) this.problems.push(`row ${row} was written but has no initial value`)
    }
    this.lastWriteEnd = writes.reduce((m, w) => Math.max(m, w.e), Number.NEGATIVE_INFINITY)
    this.settled = this.lastWriteEnd + boundMs
    const byProcess = new Map<number, StallEvent[]>()
    for (const stall of setup.stalls ?? []) {
      entry(byProcess, stall.p, () => [] as StallEvent[]).push(stall)
    }
    for (const [p, list] of byProcess) this.timelines.set(p, new StallTimeline(list))
  }

  /** Time between `a` and `b` during which process `p` was running (not stalled). */
  private running(p: number, a: number, b: number): number {
    return (this.timelines.get(p) ?? this.noStalls).running(a, b)
  }

  private violate(v: Violation): void {
    this.counts[v.property]++
    if (this.violations.length < this.keep) this.violations.push(v)
  }

  private isExempt(t: number): boolean {
    return this.exempt.some(([from, to]) => t >= from && t <= to)
  }

  observe(read: ReadOp): void {
    const boundMs = this.boundMs
    this.reads++
    this.readers.add(read.p)
    const inFinal = read.s > this.settled && this.running(read.p, this.lastWriteEnd, read.s) > boundMs
    if (inFinal) this.convergenceReads++
    for (const [row, value] of read.obs) {
      this.observations++
      const r = this.rows.get(row)
      const initial = this.initial[row]
      // (d) no invented values.
      if (
        value === null ||
        initial === undefined ||
        (value !== initial && !(r && r.values[firstAbove(r.values, value) - 1] === value))
      ) {
        const message = `row ${row}: read ${value}, which no write returned (initial ${initial})`
        this.violate({ property: 'd', message, read, row, value })
        continue
      }
      if (inFinal) {
        entry(this.convergenceSeen, read.p, () => new Set<number>()).add(row)
        // (c) convergence.
        const last = this.finalOf.get(row) as number
        if (value !== last) {
          const message = `row ${row}: read ${value} after every write returned (+${boundMs} ms), final ${last}`
          this.violate({ property: 'c', message, read, row, value })
        }
      }
      if (!r) continue
      const i = firstAbove(r.values, value)
      if (i >= r.values.length) continue
      // (a) read-your-writes: the earliest-returning write of this process that the read did not see.
      const own = r.suffixMin.get(read.p)?.[i] ?? Number.POSITIVE_INFINITY
      if (own < read.s) {
        const write = r.writes[(r.suffixArg.get(read.p) as Int32Array)[i] as number] as WriteOp
        const message = `row ${row}: read ${value} ${(read.s - own).toFixed(2)} ms after its own process's write of ${write.value} returned`
        this.violate({ property: 'a', message, read, row, value, write })
      }
      // (b) bounded staleness: the earliest-returning write of another process that the read did not see.
      let other = Number.POSITIVE_INFINITY
      let otherP = -1
      for (const p of this.processes) {
        if (p === read.p) continue
        const t = (r.suffixMin.get(p) as Float64Array)[i] as number
        if (t < other) {
          other = t
          otherP = p
        }
      }
      const raw = read.s - other
      if (!(raw > 0)) continue
      // The earliest-returning missed write is also the one the reader had the longest running time to learn of.
      const staleness = this.running(read.p, other, read.s)
      const write = r.writes[(r.suffixArg.get(otherP) as Int32Array)[i] as number] as WriteOp
      if (this.isExempt(read.s)) {
        this.maxExempt = Math.max(this.maxExempt, staleness)
        continue
      }
      this.positive.push(staleness)
      this.maxRaw = Math.max(this.maxRaw, raw)
      if (staleness > this.maxStale) {
        this.maxStale = staleness
        this.worst = { read, write, raw }
      }
      if (staleness > boundMs) {
        const stalled = raw - staleness > 0 ? ` (${raw.toFixed(2)} ms with the reader's stalls)` : ''
        const message = `row ${row}: read ${value} ${staleness.toFixed(2)} ms${stalled} after process ${write.p}'s write of ${write.value} returned (bound ${boundMs} ms)`
        this.violate({ property: 'b', message, read, row, value, write })
      }
    }
  }

  private stallSummary(): CheckResult['stalls'] {
    const out = new Map<number, { count: number; total: number; longest: number }>()
    for (const s of this.setup.stalls ?? []) {
      const e = entry(out, s.p, () => ({ count: 0, total: 0, longest: 0 }))
      e.count++
      e.total += s.to - s.from
      e.longest = Math.max(e.longest, s.to - s.from)
    }
    return Object.fromEntries(out)
  }

  finish(): CheckResult {
    const problems = [...this.problems]
    // (c) proves nothing unless every process read every row after the writes settled.
    if (this.setup.writes.length > 0) {
      for (const p of [...this.readers].sort((x, y) => x - y)) {
        const seen = this.convergenceSeen.get(p)?.size ?? 0
        if (seen < this.finalOf.size) {
          problems.push(
            `process ${p} read ${seen} of ${this.finalOf.size} rows after the writes settled: (c) not exercised`,
          )
        }
      }
    }
    return {
      reads: this.reads,
      writes: this.setup.writes.length,
      errors: this.setup.errors.length,
      observations: this.observations,
      processes: [...new Set([...this.processes, ...this.readers])].sort((x, y) => x - y),
      counts: { ...this.counts },
      violations: [...this.violations],
      problems,
      staleness: {
        max: this.maxStale,
        worst: this.worst,
        maxRaw: this.maxRaw,
        maxExempt: this.maxExempt,
        staleObservations: this.positive.length,
        p99: percentile(this.positive, 0.99),
      },
      exempt: this.exempt,
      convergenceReads: this.convergenceReads,
      lastWriteEnd: this.lastWriteEnd,
      stalls: this.stallSummary(),
    }
  }
}

/** Splits a log into its kinds. */
export function sortEntries(entries: Iterable<LogEntry>) {
  const out = {
    writes: [] as WriteOp[],
    reads: [] as ReadOp[],
    bus: [] as BusEvent[],
    errors: [] as ErrorOp[],
    stalls: [] as StallEvent[],
  }
  for (const e of entries) {
    if (e.kind === 'write') out.writes.push(e)
    else if (e.kind === 'read') out.reads.push(e)
    else if (e.kind === 'bus') out.bus.push(e)
    else if (e.kind === 'stall') out.stalls.push(e)
    else out.errors.push(e)
  }
  return out
}

/** Checks a whole log at once. */
export function check(input: CheckInput, keep = 50): CheckResult {
  const { writes, reads, bus, errors, stalls } = sortEntries(input.entries)
  const checker = new Checker({ ...input, writes, bus, errors, stalls, keep })
  for (const read of reads) checker.observe(read)
  return checker.finish()
}

const ms = (t: number, origin: number) => `${(t - origin).toFixed(3)}`

function describeOp(op: WriteOp | ReadOp, origin: number): string {
  const head = `p${op.p}.${op.lane} ${op.kind} ${op.op} [${ms(op.s, origin)} .. ${ms(op.e, origin)}]`
  if (op.kind === 'write') return `${head} row ${op.row} -> ${op.value}`
  return `${head} -> ${op.obs.map(([row, v]) => `${row}:${v}`).join(' ')}`
}

/** The violation and the writes of its row around it, times in ms from `origin`: what to paste in a bug report. */
export function excerpt(
  v: Violation,
  log: { writes: WriteOp[]; bus: BusEvent[]; stalls?: StallEvent[] },
  origin: number,
  boundMs: number,
): string {
  const lines = [`(${v.property}) ${propertyNames[v.property]}: ${v.message}`, `  read:  ${describeOp(v.read, origin)}`]
  if (v.write) lines.push(`  missed: ${describeOp(v.write, origin)}`)
  const from = v.read.s - 3 * boundMs
  const near = log.writes.filter((w) => w.row === v.row && w.e >= from && w.s <= v.read.e)
  for (const w of near.slice(-12)) lines.push(`  write: ${describeOp(w, origin)}`)
  const bus = log.bus.filter((b) => b.t >= from && b.t <= v.read.e)
  for (const b of bus) lines.push(`  bus:   p${b.p} ${b.up ? 'up' : 'down'} at ${ms(b.t, origin)}`)
  for (const s of log.stalls ?? []) {
    if (s.p === v.read.p && s.to >= from && s.from <= v.read.e) {
      lines.push(`  stall: p${s.p} [${ms(s.from, origin)} .. ${ms(s.to, origin)}]`)
    }
  }
  return lines.join('\n')
}

function spread(values: number[]): string {
  const sorted = [...values].sort((x, y) => x - y)
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(0)
  return sorted.length === 1 ? at(0) : `${at(0)}..${at(1)} (median ${at(0.5)})`
}

/** A few lines for humans: operations, violations by property, staleness. */
export function summary(result: CheckResult, boundMs: number): string {
  const s = result.staleness
  const worst = s.worst
    ? ` (process ${s.worst.read.p} ${s.worst.read.op} missed process ${s.worst.write.p}'s ${s.worst.write.op}; ${s.worst.raw.toFixed(2)} ms with stalls)`
    : ''
  const stalls = Object.values(result.stalls)
  const stalled = stalls.reduce((t, x) => t + x.total, 0)
  const longest = stalls.reduce((t, x) => Math.max(t, x.longest), 0)
  const counts = (Object.keys(propertyNames) as Property[])
    .map((p) => `(${p}) ${propertyNames[p]}: ${result.counts[p]}`)
    .join(', ')
  return [
    `operations: ${result.reads + result.writes + result.errors} (${result.reads} reads with ${result.observations} row observations, ${result.writes} writes, ${result.errors} errors) in ${result.processes.length} processes`,
    `violations: ${counts}`,
    `staleness: max ${s.max.toFixed(2)} ms${worst}, p99 ${s.p99.toFixed(2)} ms over ${s.staleObservations} stale observations; bound ${boundMs} ms; max counting the reader's stalls ${s.maxRaw.toFixed(2)} ms`,
    `stalls (event loop did not turn): ${stalls.reduce((t, x) => t + x.count, 0)}, ${stalled.toFixed(0)} ms in all, longest ${longest.toFixed(0)} ms`,
    ...(result.exempt.length > 0
      ? [
          `exempt from (b) after ${result.exempt.length} kills: windows of ${spread(result.exempt.map(([a, b]) => b - a))} ms; max staleness inside ${s.maxExempt.toFixed(2)} ms`,
        ]
      : []),
    `convergence: ${result.convergenceReads} reads started after the last write + bound`,
    ...result.problems.map((p) => `problem: ${p}`),
  ].join('\n')
}
