/** What Strata reads of a query-extension call (a write, or raw SQL). `__internalParams` is Prisma's, not public API. */
export interface WriteParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => PromiseLike<unknown>
  __internalParams?: { transaction?: { kind: string; id: string | number } }
}
