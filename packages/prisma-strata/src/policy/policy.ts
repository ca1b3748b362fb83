/**
 * Which TTL applies to a read, and whether a model is cached at all: schema annotation (`/// @cache(...)`),
 * then `cache({ models })` in code, then the query's own `cache` argument, each overriding the one before.
 */
import type { ModelPolicy, QueryCacheOptions, ResolvedOptions } from '../options'

export interface EffectivePolicy {
  /** Milliseconds, before jitter. */
  ttlMs: number
  negativeTtlMs: number
}

export class Policies {
  private readonly byModel = new Map<string, EffectivePolicy | false>()

  constructor(
    private readonly options: ResolvedOptions,
    schema: Record<string, ModelPolicy | false>,
    models: Iterable<string>,
  ) {
    for (const model of models) {
      const layers = [schema[model], options.models[model]]
      let policy: EffectivePolicy | false = {
        ttlMs: options.ttl * 1000,
        negativeTtlMs: options.negativeTtl * 1000,
      }
      for (const layer of layers) {
        if (layer === undefined) continue
        if (layer === false) policy = false
        else {
          policy = {
            ttlMs: (layer.ttl ?? (policy ? policy.ttlMs / 1000 : options.ttl)) * 1000,
            negativeTtlMs: (layer.negativeTtl ?? (policy ? policy.negativeTtlMs / 1000 : options.negativeTtl)) * 1000,
          }
        }
      }
      this.byModel.set(model, policy)
    }
  }

  /** The model's policy, or `false` when it is not cached. */
  of(model: string): EffectivePolicy | false {
    return this.byModel.get(model) ?? false
  }

  /** The TTL of one entry in ms: the query's own, else the model's, shortened by up to `jitter`. */
  ttlMs(policy: EffectivePolicy, query: QueryCacheOptions | undefined, negative: boolean): number {
    const base = query?.ttl !== undefined ? query.ttl * 1000 : negative ? policy.negativeTtlMs : policy.ttlMs
    return Math.max(1, base * (1 - this.options.jitter * Math.random()))
  }
}
