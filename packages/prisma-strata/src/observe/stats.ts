import type { ChangesStatus } from '../changes/changes-status'

/**
 * Counters behind `$cache.stats()`, kept per model and operation. Plain integer fields, bumped on the hit path
 * without allocation: a read looks its counters object up once (two map lookups) and increments it in place;
 * model totals and the grand total are summed only when a snapshot is taken.
 */

export interface ModelCounters {
  /** Reads answered by the in-process tier. */
  localHits: number
  /** Reads answered by Redis. */
  redisHits: number
  /** Reads the database answered: cached, unless Redis could not give the versions to cache them under. */
  misses: number
  /** Reads that waited for an identical read already on its way to Redis or the database, and shared its answer. */
  coalesced: number
  /** Of the hits, those answered by an entry past its TTL: within `swr` (a refresh ran) or `grace` (the database failed). */
  stale: number
  /** Reads that did not use the cache: `cache: false`, transactions, a missing `context`. */
  bypasses: number
}

/** The counters of one model and operation (`findUnique`, `findMany`, ..., `wrap` for `$cache.wrap`). */
export interface OperationStats extends ModelCounters {
  /** `(localHits + redisHits + coalesced) / (those + misses)`, or 0 before any cached read. */
  hitRatio: number
}

/** The counters of one model, summed over its operations, and the same per operation. */
export interface ModelStats extends OperationStats {
  /** By operation name as called: `findUnique` and `findUniqueOrThrow` are counted apart. */
  operations: Record<string, OperationStats>
}

export interface StatsSnapshot extends ModelCounters {
  /** `(localHits + redisHits + coalesced) / (those + misses)`, or 0 before any cached read. */
  hitRatio: number
  /** Entries written after a miss. */
  fills: number
  /** Rows put into their entries after a write (write-through models). */
  puts: number
  /** Background refreshes of stale entries started (stale-while-revalidate). */
  refreshes: number
  /** Background fills started because a write overtook a fill (its entry could never be served): see `refill`. */
  refills: number
  /**
   * Misses that waited all of `lease.wait` for another instance's fill (leases) and then queried the database
   * themselves: a holder slower than the wait. Many of them mean the wait is shorter than the query.
   */
  leaseWaitsOut: number
  /** Version bumps made by writes and `$cache.invalidate` (one per model or tag). */
  invalidations: number
  /** Cache-side faults, by error code. None reached a caller. */
  errors: Record<string, number>
  /** Entries and bytes held by the in-process tier. */
  local: { entries: number; bytes: number }
  /** The same counters, per model (`$wrap` for `$cache.wrap`), and per operation within each model. */
  models: Record<string, ModelStats>
  /** Following the database's change stream (`changes`), when configured. */
  changes?: ChangesStatus
}

function zero(): ModelCounters {
  return { localHits: 0, redisHits: 0, misses: 0, coalesced: 0, stale: 0, bypasses: 0 }
}

function add(into: ModelCounters, c: ModelCounters): void {
  into.localHits += c.localHits
  into.redisHits += c.redisHits
  into.misses += c.misses
  into.coalesced += c.coalesced
  into.stale += c.stale
  into.bypasses += c.bypasses
}

/** Reads the cache answered over reads it was asked; a coalesced read counts as a hit (no query of its own). */
function ratio(c: ModelCounters): number {
  const hits = c.localHits + c.redisHits + c.coalesced
  return hits + c.misses === 0 ? 0 : hits / (hits + c.misses)
}

export class Stats {
  private readonly byModel = new Map<string, Map<string, ModelCounters>>()
  fills = 0
  puts = 0
  refreshes = 0
  refills = 0
  leaseWaitsOut = 0
  invalidations = 0
  readonly errors: Record<string, number> = {}

  /** The live counters of one model and operation; callers bump its fields. */
  of(model: string, operation: string): ModelCounters {
    let operations = this.byModel.get(model)
    if (operations === undefined) {
      operations = new Map()
      this.byModel.set(model, operations)
    }
    let counters = operations.get(operation)
    if (counters === undefined) {
      counters = zero()
      operations.set(operation, counters)
    }
    return counters
  }

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1
  }

  snapshot(local: { entries: number; bytes: number }, changes?: ChangesStatus): StatsSnapshot {
    const total = zero()
    const models: StatsSnapshot['models'] = {}
    for (const [name, operations] of this.byModel) {
      const sum = zero()
      const byOperation: ModelStats['operations'] = {}
      for (const [operation, c] of operations) {
        add(sum, c)
        byOperation[operation] = { ...c, hitRatio: ratio(c) }
      }
      add(total, sum)
      models[name] = { ...sum, hitRatio: ratio(sum), operations: byOperation }
    }
    return {
      ...total,
      hitRatio: ratio(total),
      fills: this.fills,
      puts: this.puts,
      refreshes: this.refreshes,
      refills: this.refills,
      leaseWaitsOut: this.leaseWaitsOut,
      invalidations: this.invalidations,
      errors: { ...this.errors },
      local,
      models,
      ...(changes ? { changes } : {}),
    }
  }

  reset(): void {
    this.byModel.clear()
    this.fills = 0
    this.puts = 0
    this.refreshes = 0
    this.refills = 0
    this.leaseWaitsOut = 0
    this.invalidations = 0
    for (const key of Object.keys(this.errors)) delete this.errors[key]
  }
}
