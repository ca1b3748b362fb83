// Counts the SQL statements Prisma sends to the database, below Prisma: a cache hit must send none, and a stampede
// test must count real queries (Prisma's dataloader merges identical findUnique calls, so counting calls above
// Prisma would lie). Wraps a driver adapter *factory* (what `new PrismaClient({ adapter })` takes).
//
// Counted: every queryRaw/executeRaw on a connection or on a transaction it opened, which includes the COMMIT or
// ROLLBACK Prisma sends through executeRaw, or that commit()/rollback() send when the adapter asks Prisma not to
// (`usePhantomQuery`: the MariaDB adapter). Not counted: the BEGIN an adapter issues inside startTransaction, and
// executeScript (migrations only).
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, SqlQueryable } from '@prisma/driver-adapter-utils'

export interface CountingOptions {
  /** Runs before each statement is sent; a test can return a promise to hold one statement (stale-set race). */
  beforeQuery?: (sql: string) => Promise<void> | void
  /** Runs after a statement's result arrived, before Prisma gets it: holds a reader between its SQL and its fill. */
  afterQuery?: (sql: string) => Promise<void> | void
}

export interface CountingAdapter<F> {
  /** Pass to `new PrismaClient({ adapter })`. */
  adapter: F
  count(): number
  /** The statements counted since the last reset, in order sent. */
  statements(): string[]
  reset(): void
}

export function countingAdapter<F extends SqlDriverAdapterFactory>(
  factory: F,
  options: CountingOptions = {},
): CountingAdapter<F> {
  let sent: string[] = []

  const counted = (queryable: SqlQueryable) => ({
    async queryRaw(query: SqlQuery) {
      sent.push(query.sql)
      await options.beforeQuery?.(query.sql)
      const result = await queryable.queryRaw(query)
      await options.afterQuery?.(query.sql)
      return result
    },
    async executeRaw(query: SqlQuery) {
      sent.push(query.sql)
      await options.beforeQuery?.(query.sql)
      return queryable.executeRaw(query)
    },
  })

  const connection = (conn: SqlDriverAdapter): SqlDriverAdapter =>
    intercept(conn, {
      ...counted(conn),
      async startTransaction(isolationLevel?: Parameters<SqlDriverAdapter['startTransaction']>[0]) {
        const tx = await conn.startTransaction(isolationLevel)
        if (!tx.options.usePhantomQuery) return intercept(tx, counted(tx))
        const ending = (sql: string, end: () => Promise<void>) => async () => {
          sent.push(sql)
          await options.beforeQuery?.(sql)
          return end()
        }
        return intercept(tx, {
          ...counted(tx),
          commit: ending('COMMIT', tx.commit.bind(tx)),
          rollback: ending('ROLLBACK', tx.rollback.bind(tx)),
        })
      },
    })

  return {
    adapter: intercept(factory, { connect: async () => connection(await factory.connect()) }),
    count: () => sent.length,
    statements: () => [...sent],
    reset: () => {
      sent = []
    },
  }
}

/**
 * `target` with some members replaced. A Proxy rather than a copy, so optional members Prisma probes for
 * (getConnectionInfo, createSavepoint, underlyingDriver, ...) stay exactly as the adapter defines them; other methods
 * are bound to the real object because adapters use private fields that a proxy `this` cannot reach.
 */
function intercept<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(real, key) {
      if (typeof key === 'string' && Object.hasOwn(overrides, key)) return overrides[key]
      const value = Reflect.get(real, key, real)
      return typeof value === 'function' ? value.bind(real) : value
    },
  })
}
