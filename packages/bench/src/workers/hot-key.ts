// One process of the hot-key scenario: three instances (Strata two-tier, Strata Redis-only, plain Prisma), each
// reading its own hot row with findUnique over and over, one call at a time, yielding to the event loop now and
// then as a server does between requests. The writer process makes `reads` reads per round and updates the row
// once every `writeEvery` of them; the others make as many reads, and go on until the writer is done (a `stop`
// signal), so they are reading whenever a write lands. Rows carry a sequence number (`name: 'v<seq>'`), so each
// process notes when it first reads each new value.
import { type Summary, summarize } from '../measure.ts'
import { type BusProbe, busProbe } from './bus-probe.ts'
import { type Instance, openInstance, type UserRow } from './instance.ts'
import { type Command, serve, workerConfig } from './protocol.ts'

export type HotKeyMode = 'two-tier' | 'redis-only' | 'prisma'

export interface HotKeyConfig {
  index: number
  dbUrl: string
  redisUrl: string
  prefix: string
  /** The row each contender reads (and the writer writes). */
  rows: Record<HotKeyMode, number>
  writer: boolean
  writeEvery: number
  yieldEvery: number
}

/** [round, sequence number, epoch ms]: when a process first read a value, or when the writer's write returned. */
export type Event = [number, number, number]

/** What one process reports for one contender. */
export interface HotKeyReport {
  reads: number
  writes: number
  /** Wall-clock ms of its timed runs (reads, writes and yields). */
  runMs: number
  /** SQL statements sent by reads, and by writes. */
  readQueries: number
  writeQueries: number
  /** Redis commands sent, by name (Strata only). */
  redis: Record<string, number> | undefined
  strata: Record<string, unknown> | undefined
  latency: Summary
  /** Every timed read, µs, rounded to 0.01. */
  samples: number[]
  seen: Event[]
  written: Event[]
  /** Epoch ms at which each invalidation message reached this process (Strata only). */
  busArrivals: number[] | undefined
  /** Writer: reads that returned an older value than its own last write. */
  ownStale: number
  /** The value one more read returns after the rounds and a quiet pause. */
  finalSeq: number
}

const config = workerConfig<HotKeyConfig>()
const strataOptions = {
  'two-tier': { prefix: `${config.prefix}-t` },
  'redis-only': { prefix: `${config.prefix}-r`, local: false as const },
  prisma: undefined,
}
const sequence = (row: UserRow | null) => Number(row?.name?.slice(1)) || 0
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve))

/** `mode:round` of the runs the writer has finished: the other processes stop reading. */
const stopped = new Set<string>()

class Contender {
  /** µs of every timed read. */
  samples: number[] = []
  reads = 0
  writes = 0
  runMs = 0
  writeQueries = 0
  seen: Event[] = []
  written: Event[] = []
  lastSeen = 0
  lastWritten = 0
  ownStale = 0

  constructor(
    readonly mode: HotKeyMode,
    readonly instance: Instance,
    readonly id: number,
    readonly probe: BusProbe | undefined,
  ) {}

  /** At least `reads` reads; in a timed run of a process that does not write, until the writer is done too. */
  async run(reads: number, round: number, timed: boolean): Promise<void> {
    const started = performance.now()
    const stop = `${this.mode}:${round}`
    const more = (i: number) => i <= reads || (timed && !config.writer && !stopped.has(stop))
    for (let i = 1; more(i); i++) {
      const t0 = performance.now()
      const row = await this.instance.users.findUnique({ where: { id: this.id } })
      const t1 = performance.now()
      this.observe(sequence(row), round, performance.timeOrigin + t1)
      if (timed) {
        this.samples.push((t1 - t0) * 1000)
        this.reads++
        // Every `writeEvery` reads, half a period in: each round's last write is followed by reads everywhere.
        if (config.writer && this.reads % config.writeEvery === Math.floor(config.writeEvery / 2)) {
          await this.write(round)
        }
      }
      if (i % config.yieldEvery === 0) await yieldToLoop()
    }
    if (timed) this.runMs += performance.now() - started
  }

  private observe(seq: number, round: number, at: number): void {
    if (seq < this.lastWritten) this.ownStale++
    if (seq > this.lastSeen) {
      this.lastSeen = seq
      this.seen.push([round, seq, at])
    }
  }

  private async write(round: number): Promise<void> {
    const seq = Math.max(this.lastSeen, this.lastWritten) + 1
    const before = this.instance.sql.count()
    await this.instance.users.update({ where: { id: this.id }, data: { name: `v${seq}` } })
    this.written.push([round, seq, performance.timeOrigin + performance.now()])
    this.writeQueries += this.instance.sql.count() - before
    this.lastWritten = seq
    this.writes++
  }

  /** After warm-up: forget everything counted so far. */
  reset(): void {
    this.seen = []
    this.instance.sql.reset()
    this.instance.redis?.reset()
    this.instance.strata?.resetStats()
    this.probe?.reset()
  }

  async report(): Promise<HotKeyReport> {
    const redis = this.instance.redis?.counts()
    const stats = this.instance.strata?.stats()
    const readQueries = this.instance.sql.count() - this.writeQueries
    const finalSeq = sequence(await this.instance.users.findUnique({ where: { id: this.id } }))
    const samples = Float64Array.from(this.samples)
    const { localHits, redisHits, misses, coalesced, bypasses, fills, invalidations, errors } = stats ?? {}
    return {
      reads: this.reads,
      writes: this.writes,
      runMs: this.runMs,
      readQueries,
      writeQueries: this.writeQueries,
      redis,
      strata: stats && { localHits, redisHits, misses, coalesced, bypasses, fills, invalidations, errors },
      latency: summarize(samples),
      samples: Array.from(samples, (v) => Math.round(v * 100) / 100),
      seen: this.seen,
      written: this.written,
      busArrivals: this.probe?.arrivals(),
      ownStale: this.ownStale,
      finalSeq,
    }
  }
}

const contenders = new Map<HotKeyMode, Contender>()
for (const mode of Object.keys(config.rows) as HotKeyMode[]) {
  const options = strataOptions[mode]
  const instance = await openInstance(config.dbUrl, config.redisUrl, options)
  const probe = options && (await busProbe(config.redisUrl, options.prefix))
  contenders.set(mode, new Contender(mode, instance, config.rows[mode], probe))
}
const contender = (command: Command) => contenders.get(command.mode as HotKeyMode) as Contender

await serve(
  {
    warm: async (c) => {
      await contender(c).run(c.reads as number, -1, false)
      contender(c).reset()
    },
    run: (c) => contender(c).run(c.reads as number, c.round as number, true),
    report: (c) => contender(c).report(),
  },
  async () => {
    for (const c of contenders.values()) {
      c.probe?.close()
      await c.instance.close()
    }
  },
  { stop: (c) => stopped.add(`${c.mode}:${c.round}`) },
)
