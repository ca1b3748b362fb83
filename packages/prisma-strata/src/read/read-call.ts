/**
 * The shapes the read path passes around: one intercepted read, and what a lookup or a database query produced.
 */

import type { Args } from '../args'
import type { QueryCacheOptions } from '../options'
import type { EffectivePolicy } from '../policy/policy'
import { canonical } from './canonical'
import { notFoundError } from './not-found'

const aggregations = new Set(['aggregate', 'groupBy'])

/** One read, as the extension intercepted it. */
export interface ReadCall {
  model: string
  /** The method called: `findUniqueOrThrow` and `findUnique` share entries, only the answer differs. */
  operation: string
  /** Prisma arguments, without `cache`. */
  args: Args | undefined
  query: QueryCacheOptions | undefined
  /** The `context` partition the read was made in, when the cache is partitioned. */
  partition: string | undefined
  policy: EffectivePolicy
  /** Version names it depends on, when the caller states them (`$cache.wrap`); else read from `args`. */
  deps?: string[]
  /** Sends the query to Prisma (the database), or runs the loader of `$cache.wrap`. */
  execute(): PromiseLike<unknown>
  /**
   * The same read with its arguments copied now, for a query sent after the caller has its answer (a refill, a
   * refresh): by then the caller owns its arguments again, and may have changed them (a paging loop moving `skip`).
   * Absent when the read has no arguments of the caller's to copy.
   */
  detached?(): ReadCall
}

export const orThrow = (operation: string) => operation.endsWith('OrThrow')

function sharedOperation(operation: string): string {
  return orThrow(operation) ? operation.slice(0, -'OrThrow'.length) : operation
}

/**
 * The canonical text of a read: the local key, and what a Redis entry must store to answer it. `omit` is the
 * client's global `omit` (`omitScope`): clients that omit other fields get other results from the same query.
 */
export function queryText(
  call: Pick<ReadCall, 'model' | 'operation' | 'args' | 'query' | 'partition' | 'deps'>,
  omit = '',
): string {
  const scope = call.partition === undefined ? '' : `${JSON.stringify(call.partition)}|`
  // Tags are dependencies: the same query under other tags is another entry, or invalidating one would miss it.
  const tags = call.query?.tags?.length ? `|tags:${JSON.stringify([...new Set(call.query.tags)].sort())}` : ''
  // A read with its dependencies given (query hooks below cache() run for it, or `$cache.wrap`) keeps its own
  // operation: hooks may run for `findUnique` and not for `findUniqueOrThrow`, so the two forms share an entry only
  // when no hook runs for either.
  const hooked = call.deps !== undefined
  const operation = hooked ? call.operation : sharedOperation(call.operation)
  if (call.query?.key !== undefined) {
    // Stated dependencies (`$cache.wrap`) are part of a named entry, as tags are: one filled under others is not it.
    const deps = call.deps ? `|deps:${call.deps.join(',')}` : ''
    return `${scope}${call.model}|${operation}|key|${JSON.stringify(call.query.key)}${omit}${tags}${deps}`
  }
  // An aggregate's result lists its aggregations (`_max`, `_sum`...) in the order they were asked for.
  const args = canonical(call.args, false, aggregations.has(operation))
  return `${scope}${call.model}|${operation}${hooked ? '|hooked' : ''}|${args}${omit}${tags}`
}

/** The text `queryText` adds for a client's global `omit`: empty when it omits nothing. */
export function omitScope(globalOmit: Record<string, Record<string, unknown>> | undefined): string {
  const omitted: Record<string, string[]> = {}
  for (const [model, fields] of Object.entries(globalOmit ?? {})) {
    const names = Object.keys(fields ?? {}).filter((f) => fields[f] === true)
    if (names.length > 0) omitted[model] = names.sort()
  }
  return Object.keys(omitted).length === 0 ? '' : `|omit:${canonical(omitted)}`
}

/** The caller's answer: the value, or for `*OrThrow` on "no such row", Prisma's not-found error. */
export function answer(call: ReadCall, value: unknown, notFound?: unknown): unknown {
  if (value === null && orThrow(call.operation)) throw notFound ?? notFoundError(call.model, call.operation)
  return value
}

export const FRESH = 0
export const STALE = 1
export const EXPIRED = 2

/** Fresh, stale (inside `swr`: serve and refresh), or expired (past `swr`: only `grace` may still serve it). */
export function freshness(times: { freshUntil: number; staleUntil: number } | undefined): number {
  if (times === undefined) return FRESH
  const now = Date.now()
  return now < times.freshUntil ? FRESH : now < times.staleUntil ? STALE : EXPIRED
}
