// The shared integration matrix: every behaviour is checked on SQLite, PostgreSQL and MySQL/MariaDB, with the
// in-process tier alone and with both tiers (a real Redis); on MariaDB with both tiers only. What MariaDB changes
// (the SQL dialect of raw writes, the write forms without RETURNING, moves that bump a whole scheme) does not depend
// on the tier, and the in-process tier alone is checked on the other two: a sixth case made a sixth of the matrix's
// tests and reached no code the others do not. `setupCase` makes a fresh database, an uncached client (the oracle)
// and a cached client on it, with a key prefix of its own.
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { PrismaClient as MysqlClient } from '../../generated/mysql/client/client.ts'
import { PrismaClient as PostgresClient } from '../../generated/postgres/client/client.ts'
import { PrismaClient as SqliteClient } from '../../generated/sqlite/client/client.ts'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  createSqliteDatabase,
  type Provider,
  type TestDatabase,
} from '../../prisma/database.ts'
import { type CountingAdapter, type CountingOptions, countingAdapter } from './counting-adapter.ts'
import { mysqlUrl, postgresUrl, redisUrl } from './services.ts'

export type Tiers = 'local' | 'two-tier'

export interface Case {
  provider: Provider
  tiers: Tiers
}

export const matrix: Case[] = [
  { provider: 'sqlite', tiers: 'local' },
  { provider: 'sqlite', tiers: 'two-tier' },
  { provider: 'postgres', tiers: 'local' },
  { provider: 'postgres', tiers: 'two-tier' },
  { provider: 'mysql', tiers: 'two-tier' },
]

/** Write operations Prisma does not offer on a provider (MySQL has no RETURNING). */
export const unsupportedOn: Record<Provider, string[]> = {
  sqlite: [],
  postgres: [],
  mysql: ['createManyAndReturn', 'updateManyAndReturn'],
}

/** SQL written with "quoted" identifiers, in the provider's quoting (backticks on MySQL). */
export const ansiSql = (provider: Provider, sql: string) => (provider === 'mysql' ? sql.replace(/"/g, '`') : sql)

export const caseName = (c: Case) => `${c.provider} / ${c.tiers}`

/** The generated clients expose the same model API; one type keeps suites provider-agnostic. */
export type RawClient = SqliteClient

function extend(client: RawClient, options: CacheOptions) {
  return client.$extends(cache(options))
}

export type CachedClient = ReturnType<typeof extend>

export interface Setup {
  db: TestDatabase
  /** Uncached client on the same database: the oracle. */
  raw: RawClient
  /** The cached client under test. */
  prisma: CachedClient
  /** Counts SQL statements the cached client sends. */
  counting: CountingAdapter<unknown>
  /** A Redis connection of the test's own (two-tier only), and the prefix the cached client uses. */
  redis: Redis | undefined
  prefix: string
  /** Another cached client on the same database and Redis prefix: a second "instance". */
  instance(options?: CacheOptions): Promise<CachedClient>
  close(): Promise<void>
}

let seq = 0

export async function newDatabase(provider: Provider): Promise<TestDatabase> {
  if (provider === 'sqlite') return createSqliteDatabase()
  if (provider === 'mysql') return createMysqlDatabase(await mysqlUrl())
  return createPostgresDatabase(await postgresUrl())
}

const clients = { sqlite: SqliteClient, postgres: PostgresClient, mysql: MysqlClient }

export function newClient(provider: Provider, adapter: unknown, options: object = {}): RawClient {
  const Client = clients[provider] as unknown as new (o: object) => RawClient
  return new Client({ adapter, ...options })
}

/** Waits until a cached client's bus is subscribed (two-tier), so cross-instance tests start from a known state. */
export async function waitForBus(client: CachedClient): Promise<void> {
  if (!(await client.$cache.whenReady(5000))) throw new Error('the invalidation bus did not subscribe within 5 s')
}

/** The oracle and the counted client below the cache, kept connected between the cases set up on a shared database. */
interface Kept {
  raw: RawClient
  counting: CountingAdapter<unknown>
  /** The client the cache goes on: its SQL is counted. */
  cached: RawClient
}
const kept = new WeakMap<TestDatabase, Kept>()

/** Disconnects the clients `setupCase` kept for `shared`: call before dropping it. */
export async function releaseShared(shared: TestDatabase): Promise<void> {
  const clients = kept.get(shared)
  kept.delete(shared)
  if (clients) for (const client of [clients.raw, clients.cached]) await client.$disconnect()
}

/**
 * A fresh cached client (own key prefix) and oracle on a database: a new one, or `shared`, which the caller made,
 * emptied (`resetDatabase`) and drops itself; `close()` then leaves it in place. On a shared database the oracle and
 * the client below the cache stay connected for the next case (`releaseShared` disconnects them): a new Prisma client
 * pays for its connections and for planning every query shape again, which was most of what a short test cost.
 */
export async function setupCase(
  c: Case,
  options: CacheOptions = {},
  countingOptions: CountingOptions = {},
  shared?: TestDatabase,
): Promise<Setup> {
  const db = shared ?? (await newDatabase(c.provider))
  const prefix = `t${process.pid}x${Date.now().toString(36)}x${seq++}`
  const url = c.tiers === 'two-tier' ? await redisUrl() : undefined
  const redis = url ? new Redis(url) : undefined
  // No test on these cases is about Redis timeouts (those build their own clients with their own values): a
  // generous one, since a loaded machine can hold a healthy Redis's answer past the default 200 ms, and a test that
  // asserts no fault, or an exact count of hits, would then fail on scheduling.
  const tier: CacheOptions = url ? { redis: url, redisTimeout: 5000 } : {}
  const clients: Array<{ $disconnect(): Promise<void> }> = []
  const cachedClients: CachedClient[] = []
  const make = async (extra: CacheOptions) => {
    const client = extend(newClient(c.provider, db.adapter()), {
      ...tier,
      prefix,
      ...options,
      ...extra,
    })
    cachedClients.push(client)
    if (url) await waitForBus(client)
    return client
  }
  const reuse = shared !== undefined && Object.keys(countingOptions).length === 0
  let below = reuse ? kept.get(shared) : undefined
  if (below === undefined) {
    const counting = countingAdapter(db.adapter() as never, countingOptions) as CountingAdapter<unknown>
    below = { raw: newClient(c.provider, db.adapter()), counting, cached: newClient(c.provider, counting.adapter) }
    if (reuse) kept.set(shared, below)
    else clients.push(below.raw, below.cached)
  }
  const { raw, counting } = below
  counting.reset()
  const prisma = extend(below.cached, { ...tier, prefix, ...options })
  if (url) await waitForBus(prisma)
  return {
    db,
    raw,
    prisma,
    counting,
    redis,
    prefix,
    instance: (extra = {}) => make(extra),
    async close() {
      await prisma.$cache.close()
      for (const client of cachedClients) {
        await client.$cache.close()
        await client.$disconnect()
      }
      for (const client of clients) await client.$disconnect()
      redis?.disconnect()
      if (!shared) await db.drop()
    },
  }
}
