/**
 * What a read method returns: a thenable that behaves like Prisma's own PrismaPromise. Nothing runs until it is
 * awaited; awaited, it is served by the cache or, on a miss, by Prisma's promise built only then. Inside a batch
 * `$transaction([...])` Prisma calls `requestTransaction` and the item runs in the batch, never from the cache
 * (Prisma waits for every item of a batch: answering one from memory would hang it).
 * Fluent relation calls (`findUnique(...).posts()`) are cached reads too: the relation path becomes a nested
 * `select`, as Prisma itself does it, and the answer is taken along that path.
 */

import type { Args } from '../args'
import type { Engine } from '../engine'
import type { QueryCacheOptions } from '../options'
import type { EffectivePolicy } from '../policy/policy'
import { pointRead } from '../write-through/point-read'
import type { ComputedFields } from './computed-fields'
import { copyResult } from './copy-result'
import { withRelationMethods } from './fluent-class'
import { cachedRead } from './query-entry'
import type { ReadCall } from './read-call'

/** A Prisma model delegate of the client one level below this extension (or of a transaction). */
export type Delegate = Record<string, (args?: unknown) => PrismaPromiseLike>

interface PrismaPromiseLike extends PromiseLike<unknown> {
  requestTransaction(transaction: unknown): PromiseLike<unknown>
  [relation: string]: unknown
}

export type FluentStep = readonly [field: string, args: unknown]

/** `args` with `value` set at `path`, copying each object on the way (`true` on the way becomes an object). */
function setAt(args: Args, path: readonly string[], value: unknown): Args {
  const [key, ...rest] = path as [string, ...string[]]
  if (rest.length === 0) return { ...args, [key]: value }
  const inner = args[key]
  return { ...args, [key]: setAt(typeof inner === 'object' && inner !== null ? (inner as Args) : {}, rest, value) }
}

/**
 * The arguments a fluent call sends, built as Prisma builds them: the root query's own arguments (an `include` or
 * `omit` there meets the path's `select`, and Prisma rejects that), each step set at `select.<field>` along the path.
 */
export function fluentArgs(rootArgs: Args | undefined, steps: readonly FluentStep[]): Args | undefined {
  if (steps.length === 0) return rootArgs
  let args = rootArgs ?? {}
  const path: string[] = []
  for (const [field, stepArgs] of steps) {
    path.push('select', field)
    args = setAt(args, path, stepArgs || true)
  }
  return args
}

/** The answer along a fluent path (`findUnique(...).author().posts()`): null where the chain breaks. */
export function followPath(value: unknown, steps: readonly FluentStep[]): unknown {
  let current = value
  for (const [field] of steps) {
    if (current === null || current === undefined) return null
    current = (current as Args)[field]
  }
  return current ?? null
}

/** A read method's call, as the cache takes it. */
export interface ReadRequest {
  model: string
  operation: string
  /** Prisma arguments without `cache`: for a fluent read, those of its root query. */
  args: Args | undefined
  query: QueryCacheOptions | undefined
  policy: EffectivePolicy
  /** The `context` partition, when the cache is partitioned. */
  partition: string | undefined
  /** Computed fields of result extensions (below Strata, or after it too): the cache holds rows without them. */
  computed?: ComputedFields
  /** Those of result extensions added after cache(): the client below Strata neither knows nor computes them. */
  upper?: ComputedFields
  /** Every model's version, when query hooks below Strata may rewrite this read (see extension.ts). */
  deps?: string[]
  /**
   * Never from the cache (`cache: false`, a model not cached, an interactive transaction): counted as a bypass
   * when it runs, as is any read in a batch `$transaction`.
   */
  uncached?: true
  /**
   * Set for a read that query hooks added after cache() run around, on a client with computed fields: Prisma computes
   * them after every hook, from what the hooks answer, so this read answers rows without them (`computed` and
   * `upper` unset) and with the stored fields they need: it sends `lower`'s arguments below Strata and takes out
   * what the client below computes (`strip`, when it computes any).
   */
  raw?: { lower: ComputedFields; strip: ComputedFields | undefined }
}

/** The policy of a read that never reaches the cache: none of it is read. */
export const UNCACHED: EffectivePolicy = {
  ttlMs: 0,
  negativeTtlMs: 0,
  swrMs: 0,
  graceMs: 0,
  writeThrough: false,
  precise: false,
}

export class LazyRead implements ReadCall, PromiseLike<unknown> {
  private promise: Promise<unknown> | undefined
  readonly model: string
  readonly operation: string
  /** The arguments sent (with the fluent path as a nested select). */
  readonly args: Args | undefined
  readonly query: QueryCacheOptions | undefined
  readonly policy: EffectivePolicy
  readonly partition: string | undefined
  readonly computed: ComputedFields | undefined
  readonly deps: string[] | undefined

  constructor(
    private readonly engine: Engine,
    private readonly delegate: Delegate,
    private readonly request: ReadRequest,
    private readonly steps: readonly FluentStep[] = [],
  ) {
    this.model = request.model
    this.operation = request.operation
    this.args = fluentArgs(request.args, steps)
    this.query = request.query
    this.policy = request.policy
    this.partition = request.partition
    this.computed = request.computed
    this.deps = request.deps
  }

  execute(): PromiseLike<unknown> {
    return this.executeWith(this.args)
  }

  private executeWith(args: Args | undefined): PromiseLike<unknown> {
    const result = this.below(args)
    const computed = this.request.raw ? this.request.raw.strip : this.computed
    return computed ? result.then((value) => computed.strip(value, this.model, args)) : result
  }

  /**
   * Prisma's promise below Strata: computed fields of extensions after cache() become the fields they need. Only
   * rows are selected: a group, an aggregate or a count gets what its own fields allow, as Prisma computes it.
   */
  private below(args: Args | undefined): PrismaPromiseLike {
    const upper = this.operation.startsWith('find') ? (this.request.raw?.lower ?? this.request.upper) : undefined
    return (this.delegate[this.operation] as (args?: unknown) => PrismaPromiseLike)(
      upper ? upper.lower(this.model, args) : args,
    )
  }

  /** An answer from below Strata, as the client the read was made on gives it (with its computed fields). */
  private presented(pending: PromiseLike<unknown>): Promise<unknown> {
    const { upper } = this.request
    if (!upper) return Promise.resolve(pending)
    const { model, args } = this
    return Promise.resolve(pending.then((value) => upper.present(value, model, args, true)))
  }

  /** Counted when the read runs (not when it is made: a read never awaited reads nothing). */
  private bypassed(): void {
    this.engine.stats.of(this.model, this.operation).bypasses++
  }

  detached(): ReadCall {
    const args = copyResult(this.args)
    const { model, operation, query, partition, policy, deps } = this
    return { model, operation, args, query, partition, policy, deps, execute: () => this.executeWith(args) }
  }

  private run(): Promise<unknown> {
    if (this.promise === undefined) {
      const { computed } = this
      let read: Promise<unknown>
      const { raw } = this.request
      if (this.request.uncached || (raw ? raw.strip : computed)?.cannotRepeat(this.model, this.args)) {
        this.bypassed()
        read = raw ? Promise.resolve(this.executeWith(this.args)) : this.presented(this.below(this.args))
      } else {
        // Rows below computed fields or rewritten arguments are not what per-row entries hold.
        const rows =
          this.steps.length === 0 &&
          this.deps === undefined &&
          !computed?.has(this.model) &&
          !raw?.lower.has(this.model)
        read = (rows && pointRead(this.engine, this)) || cachedRead(this.engine, this)
        if (computed) read = read.then((value) => computed.present(value, this.model, this.args))
      }
      this.promise = this.steps.length === 0 ? read : read.then((value) => followPath(value, this.steps))
    }
    return this.promise
  }

  // biome-ignore lint/suspicious/noThenProperty: a PrismaPromise is a thenable by contract
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.run().then(onFulfilled, onRejected)
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.run().catch(onRejected)
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.run().finally(onFinally)
  }

  /**
   * Batch transaction: Prisma's own promise joins the batch, with the same arguments as anywhere else (a fluent path
   * as a nested select, its answer taken along the path). Not Prisma's fluent calls: Prisma merges two or more
   * fluent `findUniqueOrThrow` of one batch into one query and then answers undefined for a missing row where it throws
   * for the same read alone (Prisma 7.10); with a nested select the merged read throws, as documented.
   */
  requestTransaction(transaction: unknown): PromiseLike<unknown> {
    this.bypassed()
    const sent = this.below(this.args).requestTransaction(transaction)
    const strip = this.request.raw?.strip
    const promise = this.request.raw
      ? Promise.resolve(sent).then((value) => (strip ? strip.strip(value, this.model, this.args) : value))
      : this.presented(sent)
    return this.steps.length === 0 ? promise : promise.then((value) => followPath(value, this.steps))
  }

  get [Symbol.toStringTag](): string {
    return 'PrismaPromise'
  }

  /** A fluent relation call: the same root query, one step further along the relation path. */
  protected fluent(field: string, args: unknown): LazyRead {
    const target = this.engine.graph.models.get(this.model)?.relations.get(field)?.target
    const Fluent = fluentClass(this.engine, target ?? this.model)
    return new Fluent(this.engine, this.delegate, this.request, [...this.steps, [field, args] as const])
  }
}

/**
 * A LazyRead whose prototype has one method per relation of `model`: the result of `findUnique`/`findFirst` (and of
 * a fluent call reaching `model`) offers Prisma's fluent API.
 */
export function fluentClass(engine: Engine, model: string): typeof LazyRead {
  return withRelationMethods(LazyRead, engine.graph, model)
}
