/**
 * A parser for the SQL of one database, as raw SQL classification needs it: which tables a statement can write.
 * One per provider (`client._engineConfig.activeProvider`); a provider without one takes every model for every
 * raw statement.
 */
export interface SqlDialect {
  /** How the n-th value of a tagged template appears in this dialect's SQL text (`$1`, `?`). */
  placeholder(n: number): string
  /**
   * Resolves once the parser is usable (to undefined) or failed to load (to why); until then no statement is proven
   * to only read.
   */
  readonly loaded: Promise<unknown>
  /**
   * Tables every statement of `sql` can write (empty: it only reads), or `undefined` when the parser cannot prove
   * what it does (not loaded yet, a syntax it does not know, a function it does not know to be read-only).
   */
  writtenTables(sql: string): string[] | undefined
}
