// Counts the SQL statements Prisma sends, by wrapping the driver adapter: the only honest way to show that a cache
// hit never reaches the database. Pass `counter.adapter` to `new PrismaClient({ adapter })` instead of the adapter.

interface Queryable {
  queryRaw(query: unknown): Promise<unknown>
  executeRaw(query: unknown): Promise<unknown>
}

interface Connection extends Queryable {
  startTransaction(...args: unknown[]): Promise<Queryable>
}

export interface SqlCounter<F> {
  /** The wrapped adapter factory. */
  adapter: F
  /** Statements sent so far (including a transaction's COMMIT/ROLLBACK, not its BEGIN). */
  readonly count: number
}

export function countSql<F extends { connect(): Promise<unknown> }>(factory: F): SqlCounter<F> {
  let count = 0
  const counted = (q: Queryable) => ({
    queryRaw: (query: unknown) => {
      count++
      return q.queryRaw(query)
    },
    executeRaw: (query: unknown) => {
      count++
      return q.executeRaw(query)
    },
  })
  const connection = (conn: Connection) =>
    override(conn, {
      ...counted(conn),
      startTransaction: async (...args: unknown[]) => {
        const tx = await conn.startTransaction(...args)
        return override(tx, counted(tx))
      },
    })
  return {
    adapter: override(factory, { connect: async () => connection((await factory.connect()) as Connection) }),
    get count() {
      return count
    },
  }
}

/** `target` with some methods replaced; the others stay bound to the real object (adapters use private fields). */
function override<T extends object>(target: T, methods: Record<string, unknown>): T {
  return new Proxy(target, {
    get(real, key) {
      if (typeof key === 'string' && Object.hasOwn(methods, key)) return methods[key]
      const value = Reflect.get(real, key, real)
      return typeof value === 'function' ? value.bind(real) : value
    },
  })
}
