/**
 * Prometheus metrics for Strata, on prom-client (an optional peer dependency: install it to use this entry).
 *
 *   import { strataMetrics } from 'prisma-strata/prometheus'
 *   const metrics = strataMetrics({ registry })                  // prom-client's default registry if omitted
 *   const prisma = new PrismaClient({ adapter }).$extends(cache({ redis, ...metrics.hooks }))
 *   metrics.observe(prisma)
 *
 * Counters and gauges are read from `$cache.stats()` when Prometheus scrapes; latencies come from the hooks:
 * a histogram per tier for Redis hits and database queries (a local hit takes about a microsecond: timing it
 * would cost as much as the hit, so local hits are counted, not timed). Reads and latencies carry `model` and
 * `operation` labels (`findUnique`, `findMany`, ...; `wrap` under the model `$wrap`); sum over `operation` for
 * per-model figures. Several sets of hooks go through `combineHooks` from `prisma-strata`.
 */
import { Counter, Gauge, Histogram, type Registry, register } from 'prom-client'
import type { CacheHandle } from './extension'
import type { HitEvent, MissEvent } from './options'

export interface StrataMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global registry. */
  registry?: Registry
  /** Prefix of every metric name. Default: `'strata_'`. */
  prefix?: string
  /** Histogram buckets, in seconds. Default: from 50 µs to 1 s. */
  buckets?: number[]
}

const outcomes = [
  ['localHits', 'local_hit'],
  ['redisHits', 'redis_hit'],
  ['coalesced', 'coalesced'],
  ['misses', 'miss'],
  ['bypasses', 'bypass'],
] as const

export function strataMetrics(options: StrataMetricsOptions = {}) {
  const registers = [options.registry ?? register]
  const p = options.prefix ?? 'strata_'
  const clients: Array<{ $cache: CacheHandle }> = []
  const snapshots = () => clients.map((c) => c.$cache.stats())

  const latency = new Histogram({
    name: `${p}read_duration_seconds`,
    help: 'Time to answer a cached read, by the tier that answered (redis) or the database query of a miss (database).',
    labelNames: ['model', 'operation', 'tier'],
    buckets: options.buckets ?? [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 1],
    registers,
  })
  new Counter({
    name: `${p}reads_total`,
    help: 'Reads through the cache, by model, operation and outcome (local_hit, redis_hit, coalesced, miss, bypass).',
    labelNames: ['model', 'operation', 'outcome'],
    registers,
    collect() {
      this.reset()
      for (const stats of snapshots()) {
        for (const [model, { operations }] of Object.entries(stats.models)) {
          for (const [operation, counters] of Object.entries(operations)) {
            for (const [field, outcome] of outcomes) this.inc({ model, operation, outcome }, counters[field])
          }
        }
      }
    },
  })
  new Counter({
    name: `${p}stale_reads_total`,
    help: 'Of the hits, those answered past the TTL (within swr or grace), by model and operation.',
    labelNames: ['model', 'operation'],
    registers,
    collect() {
      this.reset()
      for (const stats of snapshots()) {
        for (const [model, { operations }] of Object.entries(stats.models)) {
          for (const [operation, counters] of Object.entries(operations)) this.inc({ model, operation }, counters.stale)
        }
      }
    },
  })
  new Gauge({
    name: `${p}hit_ratio`,
    help: 'Hits (local, Redis, coalesced) over hits and misses, by model.',
    labelNames: ['model'],
    registers,
    collect() {
      this.reset()
      // Summed over every observed client first: a ratio of totals, not the last client's ratio.
      const byModel = new Map<string, { hits: number; misses: number }>()
      for (const stats of snapshots()) {
        for (const [model, c] of Object.entries(stats.models)) {
          const sum = byModel.get(model) ?? { hits: 0, misses: 0 }
          sum.hits += c.localHits + c.redisHits + c.coalesced
          sum.misses += c.misses
          byModel.set(model, sum)
        }
      }
      for (const [model, { hits, misses }] of byModel)
        this.set({ model }, hits + misses === 0 ? 0 : hits / (hits + misses))
    },
  })
  const totals = [
    ['fills_total', 'Entries written after a miss.', 'fills'],
    ['invalidations_total', 'Versions bumped (one per model or tag).', 'invalidations'],
    ['refreshes_total', 'Background refreshes of stale entries (stale-while-revalidate).', 'refreshes'],
    ['refills_total', 'Background fills after a write overtook a fill.', 'refills'],
    [
      'lease_waits_out_total',
      "Misses that waited all of lease.wait for another instance's fill, then queried the database.",
      'leaseWaitsOut',
    ],
  ] as const
  for (const [name, help, field] of totals) {
    new Counter({
      name: `${p}${name}`,
      help,
      registers,
      collect() {
        this.reset()
        this.inc(snapshots().reduce((n, s) => n + s[field], 0))
      },
    })
  }
  new Counter({
    name: `${p}errors_total`,
    help: 'Cache-side faults by code; none reached a caller.',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset()
      for (const stats of snapshots()) for (const [code, n] of Object.entries(stats.errors)) this.inc({ code }, n)
    },
  })
  new Gauge({
    name: `${p}local_bytes`,
    help: 'Bytes the in-process tier accounts for.',
    registers,
    collect() {
      this.set(snapshots().reduce((n, s) => n + s.local.bytes, 0))
    },
  })

  // Following the database's change stream (`changes`): reported only by clients that have it configured.
  const changes = () => snapshots().flatMap((s) => (s.changes ? [s.changes] : []))
  new Gauge({
    name: `${p}changes_following`,
    help: 'Observed clients that follow the database change stream now (1 per prefix when healthy, 0 when none does).',
    registers,
    collect() {
      this.reset()
      const all = changes()
      if (all.length > 0) this.set(all.filter((c) => c.following).length)
    },
  })
  new Gauge({
    name: `${p}changes_lag_bytes`,
    help: 'Bytes of WAL the replication slot holds past its confirmed position (the server keeps them on disk).',
    registers,
    collect() {
      this.reset()
      const known = changes().flatMap((c) => (c.lagBytes === undefined ? [] : [c.lagBytes]))
      if (known.length > 0) this.set(Math.max(...known))
    },
  })
  new Gauge({
    name: `${p}changes_lag_seconds`,
    help: 'Seconds since the commit of the oldest change received and not yet bumped and confirmed (the follower only).',
    registers,
    collect() {
      this.reset()
      const known = changes().flatMap((c) => (c.lagMs === undefined ? [] : [c.lagMs]))
      if (known.length > 0) this.set(Math.max(...known) / 1000)
    },
  })
  new Counter({
    name: `${p}changes_transactions_total`,
    help: 'Committed transactions received from the database change stream.',
    registers,
    collect() {
      this.reset()
      this.inc(changes().reduce((n, c) => n + c.transactions, 0))
    },
  })

  return {
    /** Pass to `cache({ ...hooks })` so latencies are recorded. */
    hooks: {
      onHit(event: HitEvent) {
        if (event.durationMs !== undefined)
          latency.observe({ model: event.model, operation: event.operation, tier: event.tier }, event.durationMs / 1000)
      },
      onMiss(event: MissEvent) {
        latency.observe({ model: event.model, operation: event.operation, tier: 'database' }, event.durationMs / 1000)
      },
    },
    /** Reads counters from this extended client's `$cache.stats()` at every scrape. */
    observe(client: { $cache: CacheHandle }) {
      clients.push(client)
    },
  }
}
