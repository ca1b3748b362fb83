/**
 * Which TTL applies to a read, and whether a model is cached at all: schema annotation (`/// @cache(...)`),
 * then `cache({ models })` in code, then the query's own `cache` argument, each overriding the one before.
 */
import { StrataOptionsError } from '../errors'
import type { ModelPolicy, QueryCacheOptions, ResolvedOptions } from '../options'

export interface EffectivePolicy {
  /** Milliseconds, before jitter. */
  ttlMs: number
  negativeTtlMs: number
  swrMs: number
  graceMs: number
  /** Point reads cached per row, and writes put the new row (`strategy: 'write-through'`). */
  writeThrough: boolean
  /** Reads depend on the predicates their rows are named by (`invalidation: 'precise'`), where the schema allows. */
  precise: boolean
}

/** When one entry stops being fresh, stops being served stale, and disappears (wall-clock ms). */
export interface EntryTimes {
  freshUntil: number
  staleUntil: number
  expiresAt: number
}

const seconds = ['ttl', 'negativeTtl', 'swr', 'grace'] as const

export class Policies {
  private readonly byModel = new Map<string, EffectivePolicy | false>()
  /** Models a model's reads also depend on (`dependsOn`), and every model for a view that names none. */
  private readonly sources = new Map<string, readonly string[]>()
  /** The top-level policy, for entries that belong to no model (`$cache.wrap`). */
  readonly defaults: EffectivePolicy

  constructor(
    private readonly options: ResolvedOptions,
    schema: Record<string, ModelPolicy | false>,
    models: readonly string[],
    views: readonly string[] = [],
  ) {
    this.defaults = {
      ttlMs: options.ttl * 1000,
      negativeTtlMs: options.negativeTtl * 1000,
      swrMs: options.swr * 1000,
      graceMs: options.grace * 1000,
      writeThrough: false,
      precise: false,
    }
    for (const model of models) {
      let merged: ModelPolicy | false = {}
      for (const layer of [schema[model], options.models[model]]) {
        if (layer === false) merged = false
        else if (layer !== undefined) merged = { ...(merged || {}), ...layer }
      }
      const view = views.includes(model)
      const dependsOn = merged === false ? undefined : merged.dependsOn
      const code = options.models[model]
      const where = code && code.dependsOn !== undefined ? `\`models.${model}\`` : `the @cache annotation of ${model}`
      for (const source of dependsOn ?? []) {
        if (!models.includes(source)) {
          throw new StrataOptionsError(
            `cache(): ${where}: dependsOn names \`${source}\`, not a model of this client. Models: ${models.join(', ')}.`,
          )
        }
      }
      if (dependsOn) this.sources.set(model, dependsOn)
      // A view changes with tables Strata cannot see: reached through a relation, it depends on every model.
      else if (view) this.sources.set(model, models)
      if (merged === false || (view && dependsOn === undefined)) {
        this.byModel.set(model, false)
        continue
      }
      if (view && merged.strategy === 'write-through') {
        throw new StrataOptionsError(
          `cache(): ${where}: ${model} is a view; strategy "write-through" needs writes to its rows, and a view has none.`,
        )
      }
      const value = (key: (typeof seconds)[number]) => ((merged as ModelPolicy)[key] ?? options[key]) * 1000
      this.byModel.set(model, {
        ttlMs: value('ttl'),
        negativeTtlMs: value('negativeTtl'),
        swrMs: value('swr'),
        graceMs: value('grace'),
        writeThrough: merged.strategy === 'write-through',
        // A view's rows change with its sources, which writes to it never name.
        precise: (merged.invalidation ?? options.invalidation) === 'precise' && !view,
      })
    }
  }

  /** The longest an entry lives by configuration, of any model or `wrap`: its TTL, then its swr or grace window. */
  longestLifetimeMs(): number {
    let longest = 0
    for (const p of [this.defaults, ...this.byModel.values()]) {
      if (p) longest = Math.max(longest, Math.max(p.ttlMs, p.negativeTtlMs) + Math.max(p.swrMs, p.graceMs))
    }
    return longest
  }

  /** The models a read of `models` depends on: each, and the models their `dependsOn` names. */
  withSources(models: string[]): string[] {
    if (this.sources.size === 0) return models
    const all = new Set(models)
    for (const model of models) for (const source of this.sources.get(model) ?? []) all.add(source)
    return all.size === models.length ? models : [...all]
  }

  /** Whether the model's reads and writes use precise invalidation (the engine also needs its keys and types). */
  precise(model: string): boolean {
    const policy = this.byModel.get(model)
    return policy ? policy.precise : false
  }

  /** Whether the model is cached with `strategy: 'write-through'`. */
  writesThrough(model: string): boolean {
    const policy = this.byModel.get(model)
    return policy ? policy.writeThrough : false
  }

  /** The model's policy, or `false` when it is not cached. */
  of(model: string): EffectivePolicy | false {
    return this.byModel.get(model) ?? false
  }

  /**
   * The times of one entry filled now: its TTL (the query's own, else the model's, shortened by up to `jitter`),
   * then its stale-while-revalidate window, then the grace window, whichever lasts longer. A `null` value ("no
   * such row") lives `negativeTtl`.
   */
  times(policy: EffectivePolicy, query: QueryCacheOptions | undefined, value: unknown): EntryTimes {
    const base = query?.ttl !== undefined ? query.ttl * 1000 : value === null ? policy.negativeTtlMs : policy.ttlMs
    const ttl = Math.max(1, base * (1 - this.options.jitter * Math.random()))
    const swr = query?.swr !== undefined ? query.swr * 1000 : policy.swrMs
    const now = Date.now()
    return { freshUntil: now + ttl, staleUntil: now + ttl + swr, expiresAt: now + ttl + Math.max(swr, policy.graceMs) }
  }
}
