/**
 * Counters behind `$cache.stats()`. Plain integer fields, bumped on the hit path without allocation.
 */

export interface ModelCounters {
  /** Reads answered by the in-process tier. */
  localHits: number
  /** Reads answered by Redis. */
  redisHits: number
  /** Reads the database answered (then cached). */
  misses: number
  /** Reads that waited for an identical read already on its way to Redis or the database, and shared its answer. */
  coalesced: number
  /** Of the hits, those answered by an entry past its TTL: within `swr` (a refresh ran) or `grace` (the database failed). */
  stale: number
  /** Reads that did not use the cache: bypassed (`cache: false`, transactions) or the cache was unavailable. */
  bypasses: number
}

export interface StatsSnapshot extends ModelCounters {
  /** `(localHits + redisHits + coalesced) / (those + misses)`, or 0 before any cached read. */
  hitRatio: number
  /** Entries written after a miss. */
  fills: number
  /** Background refreshes of stale entries started (stale-while-revalidate). */
  refreshes: number
  /** Version bumps made by writes and `$cache.invalidate` (one per model or tag). */
  invalidations: number
  /** Cache-side faults, by error code. None reached a caller. */
  errors: Record<string, number>
  /** Entries and bytes held by the in-process tier. */
  local: { entries: number; bytes: number }
  /** The same counters, per model. */
  models: Record<string, ModelCounters & { hitRatio: number }>
}

function zero(): ModelCounters {
  return { localHits: 0, redisHits: 0, misses: 0, coalesced: 0, stale: 0, bypasses: 0 }
}

/** Reads the cache answered over reads it was asked; a coalesced read counts as a hit (no query of its own). */
function ratio(c: ModelCounters): number {
  const hits = c.localHits + c.redisHits + c.coalesced
  return hits + c.misses === 0 ? 0 : hits / (hits + c.misses)
}

export class Stats {
  private readonly byModel = new Map<string, ModelCounters>()
  fills = 0
  refreshes = 0
  invalidations = 0
  readonly errors: Record<string, number> = {}

  model(name: string): ModelCounters {
    let counters = this.byModel.get(name)
    if (!counters) {
      counters = zero()
      this.byModel.set(name, counters)
    }
    return counters
  }

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1
  }

  snapshot(local: { entries: number; bytes: number }): StatsSnapshot {
    const total = zero()
    const models: StatsSnapshot['models'] = {}
    for (const [name, c] of this.byModel) {
      total.localHits += c.localHits
      total.redisHits += c.redisHits
      total.misses += c.misses
      total.coalesced += c.coalesced
      total.stale += c.stale
      total.bypasses += c.bypasses
      models[name] = { ...c, hitRatio: ratio(c) }
    }
    return {
      ...total,
      hitRatio: ratio(total),
      fills: this.fills,
      refreshes: this.refreshes,
      invalidations: this.invalidations,
      errors: { ...this.errors },
      local,
      models,
    }
  }

  reset(): void {
    this.byModel.clear()
    this.fills = 0
    this.refreshes = 0
    this.invalidations = 0
    for (const key of Object.keys(this.errors)) delete this.errors[key]
  }
}
