/** What Strata reads of a query-extension call (a write, or raw SQL). `__internalParams` is Prisma's, not public API. */
export interface WriteParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => PromiseLike<unknown>
  __internalParams?: {
    transaction?: { kind: string; id: string | number }
    /** Set for a fluent write (`note.update(...).owner()`): where in the write's answer the caller's value is. */
    dataPath?: readonly string[]
  }
}

/**
 * A fluent write (`note.update(...).owner()`): what `query` returns is the related record Prisma unpacked along the
 * path, not the row written, so nothing of the row can be read off it (its predicates, its key, a row to put).
 */
export function fluentWrite(params: WriteParams): boolean {
  return (params.__internalParams?.dataPath?.length ?? 0) > 0
}
