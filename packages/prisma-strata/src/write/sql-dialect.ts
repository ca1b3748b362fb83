/**
 * A parser for the SQL of one database, as raw SQL classification needs it: which tables a statement can write.
 * One per provider (`client._engineConfig.activeProvider`); a provider without one takes every model for every
 * raw statement.
 */
export interface SqlDialect {
  /** How the n-th value of a tagged template appears in this dialect's SQL text (`$1`, `?`). */
  placeholder(n: number): string
  /** Settles once the parser is usable or failed to load; until then no statement is proven to read only. */
  readonly loaded: Promise<void>
  /**
   * Tables every statement of `sql` can write (empty: it only reads), or `undefined` when the parser cannot prove
   * what it does (not loaded yet, a syntax it does not know, a function it does not know to be read-only).
   */
  writtenTables(sql: string): string[] | undefined
}
