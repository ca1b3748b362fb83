/**
 * `cache(options)`: the Prisma extension. Reads are overridden in the `model` component, so a hit never enters
 * Prisma's query pipeline (see README, "Why the model component"); writes and raw SQL are seen in the `query`
 * component, where Prisma tells whether they run in a transaction; `$transaction` is wrapped to bump after commit.
 */
import { Prisma } from '@prisma/client/extension'
import type { Args } from './args'
import { belowStrata } from './below-strata'
import { Engine, type PrismaInternals } from './engine'
import { StrataOptionsError } from './errors'
import type { FluentRead } from './fluent-types'
import type { StatsSnapshot } from './observe/stats'
import {
  type CacheOptions,
  type QueryCacheArg,
  type QueryCacheOptions,
  resolveOptions,
  validateQueryCache,
} from './options'
import type { EffectivePolicy } from './policy/policy'
import { queryCallbacks, RAW, rawOperations } from './query-callbacks'
import { ComputedFields } from './read/computed-fields'
import { type Delegate, fluentClass, LazyRead, type ReadRequest, UNCACHED } from './read/lazy-read'
import { partitionOf } from './read/partition'
import { HookedRead, type HookedTarget, hookedClass, type QueryHook } from './read/upper-hooks'
import { type WrapOptions, wrap } from './read/wrap'
import { delegateName } from './schema/delegate-name'
import { tagVersionName } from './store/keys'
import { TX_SCOPE, transactionOverride } from './transaction/transaction-override'
import { modelWrite, rawWrite, writeOperations } from './write/write-path'

/** `$cache` on the extended client. */
export interface CacheHandle {
  /** Makes every cached read depending on these models or tags stale, in every process. */
  invalidate(target: { models?: string[]; tags?: string[] }): Promise<void>
  /**
   * Read-through for anything else: returns the cached value of `key`, or runs `loader` once (single flight) and
   * caches its result. `dependsOn` models and `tags` make it stale like a Prisma read. Values must be plain data
   * (what Prisma returns: objects, arrays, Date, BigInt, Decimal, Uint8Array, strings, numbers, null).
   */
  wrap<T>(key: string, loader: () => Promise<T> | T, options?: WrapOptions): Promise<T>
  /**
   * An opaque token that changes whenever one of these models or tags is bumped: an HTTP `ETag` for a response
   * built from them. `undefined` when the versions cannot be read (Redis unreachable): then send no ETag.
   */
  versionTag(target: { models?: string[]; tags?: string[] }): Promise<string | undefined>
  /** Hits by tier, misses, fills, invalidations and errors, in total and per model. */
  stats(): StatsSnapshot
  /** Sets every counter of `stats()` back to zero. */
  resetStats(): void
  /** True when foreign keys and referential actions were read from the schema (precise invalidation). */
  readonly precise: boolean
  /**
   * True when this process can serve local hits without asking Redis: always without Redis; with Redis, while
   * the invalidation bus is subscribed.
   */
  readonly ready: boolean
  /** Resolves `true` once `ready`, or `false` after `timeoutMs` (default 5000) without it. */
  whenReady(timeoutMs?: number): Promise<boolean>
  /**
   * Closes the connections Strata opened (the bus, and Redis when it was given as options or a URL). `$disconnect()`
   * calls it too; a Redis client you passed in stays open.
   */
  close(): Promise<void>
}

/** The per-query argument added to every read method. */
export interface CacheArgument {
  /** Per-query policy, or `false` to bypass the cache. See `QueryCacheOptions`. */
  cache?: QueryCacheArg
  /** Prisma Accelerate's name for `cache` (`{ ttl, swr, tags }`), accepted so code written for it runs unchanged. */
  cacheStrategy?: Pick<QueryCacheOptions, 'ttl' | 'swr' | 'tags'>
}

/** The per-query policy of a call: `cache`, or Accelerate's `cacheStrategy`; both at once is a mistake. */
function queryCacheOf(input: CacheArgument): QueryCacheArg | undefined {
  if ('cache' in input && 'cacheStrategy' in input) {
    throw new StrataOptionsError('pass `cache` or `cacheStrategy` (its Prisma Accelerate name), not both.')
  }
  if (!('cacheStrategy' in input)) return validateQueryCache(input.cache)
  const strategy = input.cacheStrategy
  if (
    strategy !== undefined &&
    (typeof strategy !== 'object' || strategy === null || Array.isArray(strategy) || 'key' in strategy)
  ) {
    throw new StrataOptionsError(
      '`cacheStrategy` must be an object `{ ttl?, swr?, tags? }` (seconds, as in Accelerate).',
    )
  }
  return validateQueryCache(strategy)
}

/**
 * A read whose `cache` argument is invalid: like Prisma's own argument errors, the error comes when the read is
 * awaited (a promise nobody awaits rejects nothing), not from the call.
 */
function failedRead(error: unknown): PromiseLike<never> {
  const settle = () => Promise.reject(error)
  return {
    // biome-ignore lint/suspicious/noThenProperty: a PrismaPromise is a thenable by contract
    then: (onFulfilled, onRejected) => settle().then(onFulfilled, onRejected),
    catch: (onRejected: (reason: unknown) => unknown) => settle().catch(onRejected),
    finally: (onFinally: () => void) => settle().finally(onFinally),
    [Symbol.toStringTag]: 'PrismaPromise',
  } as PromiseLike<never>
}

const fluentOperations = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow'])

interface ModelContext {
  $name: string
  $parent: Record<string | symbol, unknown>
}

/** What a model delegate needs to know to serve a read; worked out once per delegate object, not per call. */
interface DelegateFacts {
  delegate: Delegate
  /** An interactive transaction's delegate: reads bypass the cache (they must see uncommitted writes). */
  inTransaction: boolean
  policy: EffectivePolicy | false
  computed: ComputedFields | undefined
  /** Computed fields of extensions added after cache(), which the client below Strata does not compute. */
  upper?: ComputedFields
  /** Every model's version name, when query hooks below Strata run for this read and may rewrite it. */
  everyModel: string[] | undefined
  /** Query hooks of extensions added after cache(), which Strata runs around its read. */
  upperHooks?: QueryHook[]
  /** With such hooks and computed fields: the read answers rows without them, computed after the hooks. */
  raw?: ReadRequest['raw']
}

/** What a read of `model` through `layer`, the client below Strata, needs to know (see transaction/client-below.ts). */
function factsBelow(
  engine: Engine,
  model: string,
  operation: string,
  layer: Record<string | symbol, unknown>,
  computed: (layer: Record<string | symbol, unknown>) => ComputedFields | undefined,
): DelegateFacts {
  // A query hook below may change the arguments (add a filter on another model): what the read depends on can no
  // longer be read from the caller's arguments, so it depends on every model.
  const hooked = queryCallbacks(layer, model, operation).length > 0
  return {
    delegate: layer[delegateName(model)] as Delegate,
    inTransaction: layer[TX_SCOPE] !== undefined,
    policy: engine.policies.of(model),
    computed: computed(layer),
    everyModel: hooked ? [...engine.graph.models.keys()].map((m) => engine.modelVersionName(m)) : undefined,
  }
}

/** What the read methods share: the computed fields of a client, and of the clients extended after cache(). */
interface Layers {
  /** The computed fields of a client (every extension of it). */
  computed(layer: Record<string | symbol, unknown>): ComputedFields | undefined
  /** Those of `outer`, a client extended after cache(), that `below` (the client below Strata) does not compute. */
  upper(outer: Record<string | symbol, unknown>, below: Record<string | symbol, unknown>): ComputedFields | undefined
  /** The client each model delegate belongs to, for clients extended after cache() and their transactions. */
  outerClients: WeakMap<object, Record<string | symbol, unknown>>
}

function readMethod(
  engine: Engine,
  model: string,
  operation: string,
  base: Record<string | symbol, unknown>,
  layers: Layers,
) {
  const { computed, outerClients } = layers
  // The read's classes: with the model's relation methods for a fluent operation (they depend on the graph and the
  // model alone, so they are looked up once, here).
  const fluent = fluentOperations.has(operation)
  const Class = fluent ? fluentClass(engine, model) : LazyRead
  const Hooked = fluent ? hookedClass(engine.graph, model) : HookedRead
  const js = delegateName(model)
  const facts = new WeakMap<object, DelegateFacts>()
  let detached: DelegateFacts | undefined
  const learn = (context: ModelContext | undefined): DelegateFacts => {
    // A detached method (`const f = prisma.user.findMany; f()`) has no delegate: it reads through the client
    // cache() extended, as Prisma's own detached methods do.
    if (context === undefined || context === null || context.$parent === undefined) {
      detached ??= factsBelow(engine, model, operation, base, computed)
      return detached
    }
    const below = belowStrata(
      context.$parent as never,
      (layer) => (layer[js] as Record<string, unknown> | undefined)?.[operation],
      read,
    )
    const known = factsBelow(engine, model, operation, below.layer, computed)
    // Called through extensions added after cache(): their computed fields and query hooks apply to every read, hit
    // or miss. (A delegate knows only the client below its own level; `$extends` recorded which client it is of.)
    const outer = outerClients.get(context as object)
    if (outer !== undefined) {
      const computedBelow = known.computed
      known.computed = computed(outer)
      const upper = layers.upper(outer, below.layer)
      if (upper) known.upper = upper
      const all = queryCallbacks(outer, model, operation)
      const hooks = all.slice(queryCallbacks(below.layer, model, operation).length) as QueryHook[]
      if (hooks.length > 0) known.upperHooks = hooks
      // Unless the client below replaces a stored field with a computed one: what it answers never holds the stored
      // value, so the hooks see computed fields (and Strata computes none again after them).
      if (hooks.length > 0 && known.computed && !computedBelow?.replacesStored()) {
        known.raw = { lower: known.computed, strip: computedBelow }
      }
    }
    facts.set(context, known)
    return known
  }
  function read(this: ModelContext | undefined, input?: Args & CacheArgument): unknown {
    // Prisma hands every call on `prisma.user` the same delegate object, so the proxy lookups happen once.
    const known = facts.get(this as object) ?? learn(this)
    const { delegate, policy } = known
    let args: Args | undefined = input
    let query: QueryCacheArg | undefined
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      // Not arguments Prisma's types allow (`findFirst(null)` from JavaScript): Prisma answers or rejects it, uncached.
      query = false
    } else if (input !== undefined && ('cache' in input || 'cacheStrategy' in input)) {
      try {
        query = queryCacheOf(input)
      } catch (error) {
        return failedRead(error)
      }
      const { cache: _cache, cacheStrategy: _strategy, ...rest } = input
      args = rest
    }
    let partition: string | undefined
    if (engine.context && query !== false && policy !== false && !known.inTransaction) {
      partition = partitionOf(engine, model)
      if (partition === undefined) query = false
    }
    // Never from the cache; still a read of the client it was made on: hooks and computed fields added after cache()
    // apply, and fluent calls are sent as everywhere else.
    const uncached = query === false || policy === false || known.inTransaction
    const lazyRead = (readArgs: Args | undefined) => {
      const request: ReadRequest = uncached
        ? { model, operation, args: readArgs, query: undefined, policy: UNCACHED, partition, uncached: true }
        : { model, operation, args: readArgs, query: query || undefined, policy, partition }
      if (known.raw) request.raw = known.raw
      else {
        if (known.computed) request.computed = known.computed
        if (known.upper) request.upper = known.upper
      }
      if (known.everyModel && !uncached) {
        const tags = query ? (query.tags ?? []).map(tagVersionName) : []
        request.deps = [...new Set([...known.everyModel, ...tags])].sort()
      }
      return new Class(engine, delegate, request)
    }
    if (!known.upperHooks) return lazyRead(args)
    const target: HookedTarget = {
      hooks: known.upperHooks,
      model,
      operation,
      graph: engine.graph,
      read: lazyRead,
    }
    const { raw, computed: fields } = known
    if (raw && fields) target.present = (value, at, atArgs) => fields.present(value, at, atArgs, true)
    return new Hooked(target, args)
  }
  return read
}

export type ReadOperation =
  | 'findUnique'
  | 'findUniqueOrThrow'
  | 'findFirst'
  | 'findFirstOrThrow'
  | 'findMany'
  | 'count'
  | 'aggregate'
  | 'groupBy'

export type ReadResult<T, A, F extends ReadOperation> = Prisma.PrismaPromise<Prisma.Result<T, A, F>>

const readOperations: ReadOperation[] = [
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
]

/** The read methods as users see them: Prisma's own types, plus the `cache` argument. */
export type ReadMethods = {
  findUnique<T, A>(
    this: T,
    args: Prisma.Exact<A, Prisma.Args<T, 'findUnique'> & CacheArgument>,
  ): FluentRead<T, A, 'findUnique'>
  findUniqueOrThrow<T, A>(
    this: T,
    args: Prisma.Exact<A, Prisma.Args<T, 'findUniqueOrThrow'> & CacheArgument>,
  ): FluentRead<T, A, 'findUniqueOrThrow'>
  findFirst<T, A>(
    this: T,
    args?: Prisma.Exact<A, Prisma.Args<T, 'findFirst'> & CacheArgument>,
  ): FluentRead<T, A, 'findFirst'>
  findFirstOrThrow<T, A>(
    this: T,
    args?: Prisma.Exact<A, Prisma.Args<T, 'findFirstOrThrow'> & CacheArgument>,
  ): FluentRead<T, A, 'findFirstOrThrow'>
  findMany<T, A>(
    this: T,
    args?: Prisma.Exact<A, Prisma.Args<T, 'findMany'> & CacheArgument>,
  ): ReadResult<T, A, 'findMany'>
  count<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, 'count'> & CacheArgument>): ReadResult<T, A, 'count'>
  aggregate<T, A>(
    this: T,
    args: Prisma.Exact<A, Prisma.Args<T, 'aggregate'> & CacheArgument>,
  ): ReadResult<T, A, 'aggregate'>
  groupBy<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, 'groupBy'> & CacheArgument>): ReadResult<T, A, 'groupBy'>
}

/** Creates the extension. Throws `StrataOptionsError`, saying what to fix, when an option is invalid. */
export function cache(options: CacheOptions = {}) {
  const resolved = resolveOptions(options)
  return Prisma.defineExtension((client) => {
    const engine = new Engine(resolved, client as unknown as PrismaInternals)
    const write = modelWrite(engine)
    const writes = Object.fromEntries(writeOperations.map((op) => [op, write]))
    const handle: CacheHandle = {
      async invalidate({ models = [], tags = [] }) {
        for (const model of models) {
          if (!engine.graph.models.has(model)) {
            throw new StrataOptionsError(`$cache.invalidate: unknown model \`${model}\`.`)
          }
        }
        return engine.invalidate(models, tags)
      },
      wrap: (key, loader, options) => wrap(engine, key, loader, options),
      versionTag: ({ models = [], tags = [] }) => engine.versionTag(models, tags),
      stats: () => {
        // Fills already answered count, and are in the local tier, as soon as their answer is given.
        engine.pendingFills.flush()
        return engine.stats.snapshot(
          { entries: engine.local?.size ?? 0, bytes: engine.local?.bytes ?? 0 },
          engine.changes?.status(),
        )
      },
      resetStats: () => {
        engine.pendingFills.flush()
        engine.stats.reset()
      },
      precise: engine.precise,
      get ready() {
        return engine.versions.isReady
      },
      whenReady: (timeoutMs = 5000) => engine.whenReady(timeoutMs),
      close: () => engine.close(),
    }
    const base = client as unknown as Record<string | symbol, unknown>
    // Worked out once per extension list (a client and its transactions share one).
    const computedByList = new WeakMap<object, ComputedFields | undefined>()
    const upperByList = new WeakMap<object, WeakMap<object, ComputedFields | undefined>>()
    const layers: Layers = {
      computed(layer) {
        const list = layer._extensions as object | undefined
        if (list === undefined) return undefined
        if (!computedByList.has(list)) computedByList.set(list, ComputedFields.of(engine.graph, layer))
        return computedByList.get(list)
      },
      upper(outer, below) {
        const [list, under] = [outer._extensions as object | undefined, below._extensions as object | undefined]
        if (list === undefined || under === undefined) return undefined
        let byBelow = upperByList.get(list)
        if (byBelow === undefined) {
          byBelow = new WeakMap()
          upperByList.set(list, byBelow)
        }
        if (!byBelow.has(under)) byBelow.set(under, ComputedFields.above(engine.graph, outer, below))
        return byBelow.get(under)
      },
      // Filled by `$extends` and `$transaction` below.
      outerClients: new WeakMap(),
    }
    const { outerClients } = layers
    const prismaExtends = base.$extends as (this: unknown, extension: unknown) => Record<string | symbol, unknown>
    // One set of read methods per model, each knowing its model: a detached call still knows what it reads.
    const models = Object.fromEntries(
      [...engine.graph.models.keys()].map((model) => [
        delegateName(model),
        Object.fromEntries(readOperations.map((op) => [op, readMethod(engine, model, op, base, layers)])),
      ]),
    )
    /** Reads through `client`'s delegates are reads of `client`: one extended after cache(), or its transaction. */
    const adopt = (client: Record<string | symbol, unknown>) => {
      for (const model of engine.graph.models.keys()) {
        const delegate = client[delegateName(model)]
        if (typeof delegate === 'object' && delegate !== null) outerClients.set(delegate, client)
      }
    }
    /** Models `next`, extended from `previous` after cache(), gives computed fields or query hooks on writes. */
    const noteExtendedAbove = (previous: Record<string | symbol, unknown>, next: Record<string | symbol, unknown>) => {
      const computed = layers.computed(next)
      const adds = (model: string, op: string) =>
        queryCallbacks(next, model, op).length > queryCallbacks(previous, model, op).length
      for (const model of engine.graph.models.keys()) {
        const hooked = writeOperations.some((op) => adds(model, op))
        if (hooked) engine.hookedAbove.models.add(model)
        if (hooked || computed?.has(model)) engine.extendedAbove.add(model)
      }
      if (rawOperations.some((op) => adds(RAW, op))) engine.hookedAbove.raw = true
    }
    // An interactive transaction of a client extended after cache(): its delegates are of that client too.
    const anyModel = delegateName([...engine.graph.models.keys()][0] ?? '')
    const adoptTransaction = (tx: object, from: object) => {
      if (outerClients.has((from as Record<string, object>)[anyModel] as object)) adopt(tx as Record<string, unknown>)
    }
    const raw = rawWrite(engine)
    return client.$extends({
      name: 'prisma-strata',
      // Typed for every model at once; at run time each model gets its own methods.
      model: models as unknown as { $allModels: ReadMethods },
      query: {
        $allModels: writes,
        ...Object.fromEntries(rawOperations.map((op) => [op, raw])),
      } as never,
      client: {
        $cache: handle,
        // Typed as Prisma's own: the override changes when versions are bumped, not what `$transaction` is.
        ...({ $transaction: transactionOverride(engine, adoptTransaction) } as Record<never, never>),
        // Extensions added after cache() still apply to every read: remember which client each delegate is of.
        ...({
          $extends(this: Record<string | symbol, unknown>, extension: unknown) {
            const next = prismaExtends.call(this, extension)
            adopt(next)
            noteExtendedAbove(this, next)
            return next
          },
        } as Record<never, never>),
        // A script that disconnects must exit: the bus connection and Redis connections Strata opened go too.
        ...({
          async $disconnect() {
            await engine.close()
            await (client as unknown as { $disconnect(): Promise<void> }).$disconnect()
          },
        } as Record<never, never>),
      },
    })
  })
}
