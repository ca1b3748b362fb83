/**
 * `$cache.wrap(key, loader, options)`: read-through for anything that is not a Prisma read (a computed aggregate,
 * an external API's answer), on the same tiers, with the same single flight, stale-while-revalidate and
 * invalidation: the entry depends on the models in `dependsOn` and on its `tags`, so a write to one of those
 * models, or `$cache.invalidate({ tags })`, makes it stale everywhere.
 */
import type { Engine } from '../engine'
import { StrataOptionsError } from '../errors'
import { tagVersionNames } from '../store/keys'
import { partitionOf } from './partition'
import { cachedRead } from './query-entry'

/** Options of `$cache.wrap`. */
export interface WrapOptions {
  /** Seconds the value lives. Default: the top-level `ttl`. */
  ttl?: number
  /** Stale-while-revalidate window in seconds. Default: the top-level `swr`. */
  swr?: number
  /** Names for `$cache.invalidate({ tags })`. */
  tags?: string[]
  /** Models whose writes make the value stale, by schema name (e.g. `['User', 'Post']`). */
  dependsOn?: string[]
}

const WRAP = '$wrap'

export function wrap<T>(
  engine: Engine,
  key: string,
  loader: () => Promise<T> | T,
  options: WrapOptions = {},
): Promise<T> {
  if (typeof key !== 'string' || key === '')
    throw new StrataOptionsError('$cache.wrap: `key` must be a non-empty string.')
  if (typeof loader !== 'function') throw new StrataOptionsError('$cache.wrap: `loader` must be a function.')
  for (const model of options.dependsOn ?? []) {
    if (!engine.graph.models.has(model)) {
      throw new StrataOptionsError(
        `$cache.wrap: \`dependsOn\` names \`${model}\`, which is not a model. Models: ${[...engine.graph.models.keys()].join(', ')}.`,
      )
    }
  }
  const deps = [
    ...engine.policies.withSources(options.dependsOn ?? []).map((m) => engine.modelVersionName(m)),
    ...tagVersionNames(options.tags ?? []),
  ]
  const partition = engine.context ? partitionOf(engine, WRAP) : undefined
  // A forgotten or unusable context never shares an entry: the loader answers, uncached.
  if (engine.context && partition === undefined) return Promise.resolve(loader())
  return cachedRead(engine, {
    model: WRAP,
    operation: 'wrap',
    args: undefined,
    query: { key, ttl: options.ttl, swr: options.swr },
    partition,
    policy: engine.policies.defaults,
    deps: [...new Set(deps)].sort(),
    execute: async () => loader(),
  }) as Promise<T>
}
