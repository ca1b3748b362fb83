// Its own file because options.ts and schema/model-graph.ts both need it, and each importing the other was a cycle.

/** Caching policy of one model. Set in `schema.prisma` (`/// @cache(ttl: 300)`) or in `cache({ models })`. */
export interface ModelPolicy {
  /** Seconds an entry of this model lives. Default: the top-level `ttl`. */
  ttl?: number
  /** Seconds a "no such row" result lives. Default: the top-level `negativeTtl`. */
  negativeTtl?: number
  /** Seconds after `ttl` during which the expired entry is still served while one refresh runs. Default: top-level. */
  swr?: number
  /** Seconds after `ttl` during which the expired entry is served if the database fails. Default: top-level. */
  grace?: number
  /**
   * `'invalidate'` (default): a write makes the model's cached reads stale. `'write-through'`: point reads
   * (`findUnique` by id or any unique) are cached per row, and a write to a row puts the new row into its entry
   * instead of dropping it; writes to one row never evict point reads of other rows.
   */
  strategy?: 'invalidate' | 'write-through'
  /**
   * Models whose writes make this model's cached reads stale, besides its own. A `view` is computed by the database
   * from tables Strata cannot see: it is cached only when this names them (`['Post']`), or is `[]` to cache it
   * for its TTL alone. Default: none, and a view is not cached.
   */
  dependsOn?: string[]
  /** How writes make this model's cached reads stale. Default: the top-level `invalidation`. */
  invalidation?: Invalidation
}

/**
 * `'precise'`: a read whose `where` pins columns by equality (`{ authorId: 5 }`, a unique key, `in`, the key of a
 * relation it loads) is made stale only by writes to rows that match, before or after the write; any other read
 * by any write to its models. `'model'`: every write makes every cached read of its models stale.
 */
export type Invalidation = 'model' | 'precise'
