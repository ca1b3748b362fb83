/**
 * Query hooks of extensions added after `cache()` (`prisma.$extends(cache()).$extends({ query })`). Prisma never
 * runs them for a read Strata answers from memory, so Strata runs them itself, around its cached read: a hook sees
 * every read, hit or miss, and the arguments it passes on (a tenant filter it adds) are what the cache keys and
 * the database get. Lower hooks (below `cache()`) still run only when the query reaches the database. Fluent
 * calls run the hooks on the root query with the relation path as a nested select, as Prisma does, and their
 * `query` answers with the related record.
 */

import type { Args } from '../args'
import type { ModelGraph } from '../schema/model-graph'
import { copyResult } from './copy-result'
import { withRelationMethods } from './fluent-class'
import { type FluentStep, fluentArgs, followPath } from './lazy-read'

/** A `query` extension callback, as Prisma calls it. */
export type QueryHook = (params: {
  model: string
  operation: string
  args: Args
  query: (args: Args) => PromiseLike<unknown>
}) => unknown

interface Batched extends PromiseLike<unknown> {
  requestTransaction(transaction: unknown): PromiseLike<unknown>
}

/** What a hooked read runs once the hooks have passed the arguments on. */
export interface HookedTarget {
  hooks: readonly QueryHook[]
  model: string
  operation: string
  graph: ModelGraph
  /** Strata's read of the arguments the last hook passed on (it knows how to join a batch transaction). */
  read(args: Args): Batched
  /**
   * Set when `read` answers rows without their computed fields: adds them to what the hooks answered, as Prisma
   * does after every hook, for `model` (at the end of a fluent path) and the caller's `args` there.
   */
  present?(value: unknown, model: string, args: Args | undefined): unknown
}

export class HookedRead implements PromiseLike<unknown> {
  private promise: Promise<unknown> | undefined

  constructor(
    private readonly target: HookedTarget,
    private readonly rootArgs: Args | undefined,
    private readonly steps: readonly FluentStep[] = [],
  ) {}

  /**
   * As Prisma runs them: each hook gets its own copy of the arguments (it may change them in place, the caller's stay
   * as they were), and what `query` answers a fluent call is the related record, the path already followed.
   */
  private run(last: (args: Args) => PromiseLike<unknown>): Promise<unknown> {
    const { hooks, model, operation } = this.target
    const { steps } = this
    const step = (i: number, args: Args): Promise<unknown> => {
      const hook = hooks[i]
      if (hook === undefined) {
        const read = Promise.resolve(last(args))
        return steps.length === 0 ? read : read.then((value) => followPath(value, steps))
      }
      try {
        const query = (next: Args) => step(i + 1, next)
        return Promise.resolve(hook({ model, operation, args: copyResult(args), query }))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const done = step(0, fluentArgs(this.rootArgs, steps) ?? {})
    const { present } = this.target
    if (!present) return done
    const at = steps.length === 0 ? this.rootArgs : ((steps[steps.length - 1]?.[1] ?? {}) as Args)
    return done.then((value) => present(value, this.pathModel(), at))
  }

  /** The model at the end of the fluent path. */
  private pathModel(): string {
    const { graph } = this.target
    let model = this.target.model
    for (const [name] of this.steps) model = graph.models.get(model)?.relations.get(name)?.target ?? model
    return model
  }

  // biome-ignore lint/suspicious/noThenProperty: a PrismaPromise is a thenable by contract
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.promise ??= this.run((args) => this.target.read(args))
    return this.promise.then(onFulfilled, onRejected)
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.then(undefined, onRejected)
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.then().finally(onFinally)
  }

  requestTransaction(transaction: unknown): PromiseLike<unknown> {
    return this.run((args) => this.target.read(args).requestTransaction(transaction))
  }

  get [Symbol.toStringTag](): string {
    return 'PrismaPromise'
  }

  /** A fluent relation call: the same root query, one step further along the relation path. */
  protected fluent(field: string, args: unknown): HookedRead {
    const { graph } = this.target
    const model = this.pathModel()
    const next = graph.models.get(model)?.relations.get(field)?.target ?? model
    const Fluent = hookedClass(graph, next)
    return new Fluent(this.target, this.rootArgs, [...this.steps, [field, args] as const])
  }
}

/** A HookedRead with one method per relation of `model` (Prisma's fluent API). */
export function hookedClass(graph: ModelGraph, model: string): typeof HookedRead {
  return withRelationMethods(HookedRead, graph, model)
}
