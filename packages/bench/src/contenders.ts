// Everything the benchmark measures, built on one SQLite database (and, when a server answers, one PostgreSQL
// database), with one Redis key prefix per run. `close()` releases every client, key and database it made.
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import pg from 'pg'
import { type CacheOptions, cache, type StatsSnapshot } from 'prisma-strata'
import { PrismaClient as PostgresClient } from '../../../generated/postgres/client/client.ts'
import { Prisma, PrismaClient as SqliteClient } from '../../../generated/sqlite/client/client.ts'
import { createPostgresDatabase, createSqliteDatabase, type TestDatabase } from '../../../prisma/database.ts'
import type { Call } from './measure.ts'

export type Role = 'baseline' | 'reference' | 'strata'

export interface Contender {
  key: string
  label: string
  role: Role
  description: string
  call: Call
  /** Strata's counters, reset after warm-up: every measured call must be a hit of `expectHits`. */
  strata?: { stats(): StatsSnapshot; resetStats(): void; expectHits: 'localHits' | 'redisHits' }
  /** The value one call returns must equal the uncached row (checked after warm-up). */
  returnsRow?: boolean
}

export interface Setup {
  contenders: Contender[]
  /** The row every findUnique reads, as the uncached client returns it. */
  row: unknown
  skipped: { key: string; reason: string }[]
  info: Record<string, unknown>
  close(): Promise<void>
}

/** A row with every scalar kind of the model (Decimal, BigInt, Json, DateTime): what a hit decodes. */
export const seed = {
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  role: 'ADMIN' as const,
  balance: new Prisma.Decimal('1234.56'),
  karma: 9_007_199_254_740_993n,
  prefs: { theme: 'dark', languages: ['en', 'fr'], notifications: { email: true, sms: false } },
}

const MINIMAL = { errorFormat: 'minimal' as const }

/** A query-component extension that answers every operation with a constant: the best any such cache can do. */
function queryFloor(client: SqliteClient, constant: unknown) {
  return client.$extends({
    query: {
      $allModels: {
        $allOperations() {
          return constant as never
        },
      },
    },
  })
}

/** A model-component override of findUnique that answers with a resolved promise: where Strata's hit path lives. */
function modelFloor(client: SqliteClient, constant: unknown) {
  return client.$extends({
    model: {
      $allModels: {
        findUnique(_args: unknown) {
          return Promise.resolve(constant)
        },
      },
    },
  })
}

function strata(client: SqliteClient, options: CacheOptions) {
  return client.$extends(cache(options))
}

export async function postgresAnswers(url: string): Promise<string | undefined> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await probe.connect()
    const { rows } = await probe.query('SHOW server_version')
    return String(rows[0]?.server_version ?? 'unknown')
  } catch {
    return undefined
  } finally {
    await probe.end().catch(() => {})
  }
}

async function waitReady(handle: { ready: boolean }, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!handle.ready) {
    if (Date.now() > deadline) throw new Error(`${what}: the invalidation bus did not subscribe within 5 s`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export async function setup(options: { redisUrl: string; postgresUrl: string | undefined }): Promise<Setup> {
  const cleanups: (() => Promise<unknown>)[] = []
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error('cleanup failed:', e))
  }
  try {
    return await build(options, cleanups, close)
  } catch (error) {
    await close()
    throw error
  }
}

async function build(
  options: { redisUrl: string; postgresUrl: string | undefined },
  cleanups: (() => Promise<unknown>)[],
  close: () => Promise<void>,
): Promise<Setup> {
  const runPrefix = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const skipped: Setup['skipped'] = []
  const info: Record<string, unknown> = { redisPrefix: runPrefix }

  // Redis: our connection (Strata's bus duplicates it), and every key of this run deleted at the end.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true })
  await redis.connect()
  cleanups.push(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${runPrefix}*`, 'COUNT', 1000)
      if (keys.length) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
    await redis.quit()
  })
  info.redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1]

  const sqlite: TestDatabase = await createSqliteDatabase()
  cleanups.push(() => sqlite.drop())
  const clients: { $disconnect(): Promise<void> }[] = []
  cleanups.push(() => Promise.all(clients.map((c) => c.$disconnect())))
  const newSqlite = (opts: { errorFormat?: 'minimal' } = MINIMAL) => {
    const client = new SqliteClient({ adapter: sqlite.adapter(), ...opts })
    clients.push(client)
    return client
  }

  const base = newSqlite()
  const { id } = await base.user.create({ data: seed })
  const row = await base.user.findUnique({ where: { id } })
  if (!row) throw new Error('seeded row not found')

  const contenders: Contender[] = [
    {
      key: 'sqlite.findUnique',
      label: 'findUnique, uncached (SQLite)',
      role: 'baseline',
      description: 'Prisma 7 + better-sqlite3, errorFormat minimal: the query every other row is compared with.',
      call: () => base.user.findUnique({ where: { id } }),
      returnsRow: true,
    },
  ]

  if (options.postgresUrl) {
    const version = await postgresAnswers(options.postgresUrl)
    if (version === undefined) {
      skipped.push({ key: 'postgres.findUnique', reason: `no PostgreSQL answered at ${redact(options.postgresUrl)}` })
    } else {
      info.postgresVersion = version
      const pgDb = await createPostgresDatabase(options.postgresUrl)
      cleanups.push(() => pgDb.drop())
      const pgClient = new PostgresClient({ adapter: pgDb.adapter() as never, ...MINIMAL })
      clients.push(pgClient)
      const pgUser = await pgClient.user.create({ data: seed })
      contenders.push({
        key: 'postgres.findUnique',
        label: 'findUnique, uncached (PostgreSQL)',
        role: 'reference',
        description: 'Prisma 7 + @prisma/adapter-pg over loopback, errorFormat minimal.',
        call: () => pgClient.user.findUnique({ where: { id: pgUser.id } }),
      })
    }
  } else {
    skipped.push({ key: 'postgres.findUnique', reason: '--no-postgres' })
  }

  const floorMinimal = queryFloor(newSqlite(), row)
  const defaultClient = newSqlite({})
  const floorDefault = queryFloor(defaultClient, row)
  info.defaultErrorFormat = (defaultClient as unknown as { _errorFormat?: string })._errorFormat
  const floorModel = modelFloor(newSqlite(), row)
  contenders.push(
    {
      key: 'floor.query.minimal',
      label: 'query-extension floor (minimal)',
      role: 'reference',
      description:
        '`$extends({ query: { $allModels: { $allOperations: () => constant } } })`, errorFormat minimal: ' +
        'the best hit any cache built on the query component can serve.',
      call: () => floorMinimal.user.findUnique({ where: { id } }),
    },
    {
      key: 'floor.query.default',
      label: 'query-extension floor (default)',
      role: 'reference',
      description: 'The same, with the default errorFormat (Prisma captures the call site on every call).',
      call: () => floorDefault.user.findUnique({ where: { id } }),
    },
    {
      key: 'floor.model',
      label: 'model-component floor',
      role: 'reference',
      description: '`$extends({ model: { $allModels: { findUnique: () => Promise.resolve(constant) } } })`.',
      call: () => floorModel.user.findUnique({ where: { id } }),
    },
  )

  // One loopback round trip with a value of the same size and shape as the row, decoded the same way.
  const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
  const rawKey = `${runPrefix}:raw`
  const rawValue = packr.pack({ ...row, balance: row.balance.toString() })
  await redis.set(rawKey, rawValue)
  info.rowBytes = rawValue.length
  contenders.push({
    key: 'redis.get',
    label: 'ioredis getBuffer + unpack',
    role: 'reference',
    description: 'One GET of a msgpackr-encoded copy of the row and its decoding: one loopback round trip.',
    call: async () => packr.unpack((await redis.getBuffer(rawKey)) as Buffer),
  })
  // The same GET and decoding served by a model-component method: what Prisma's dispatch to an extension adds, which
  // no cache extension avoids (Strata's hit path lives there too).
  const modelGet = newSqlite().$extends({
    model: {
      $allModels: {
        async findUnique(_args: unknown) {
          return packr.unpack((await redis.getBuffer(rawKey)) as Buffer)
        },
      },
    },
  })
  contenders.push({
    key: 'redis.get.model',
    label: 'ioredis getBuffer + unpack, in a model method',
    role: 'reference',
    description: "The GET + unpack above, as a model-component `findUnique`: Prisma's dispatch to an extension added.",
    call: () => modelGet.user.findUnique({ where: { id } }),
  })

  const strataClients: { name: string; client: ReturnType<typeof strata>; expectHits: 'localHits' | 'redisHits' }[] = [
    { name: 'local', client: strata(newSqlite(), {}), expectHits: 'localHits' },
    {
      name: 'redis',
      client: strata(newSqlite(), { redis, prefix: `${runPrefix}-r`, local: false }),
      expectHits: 'redisHits',
    },
    { name: 'two-tier', client: strata(newSqlite(), { redis, prefix: `${runPrefix}-t` }), expectHits: 'localHits' },
  ]
  for (const { client } of strataClients) cleanups.push(() => client.$cache.close())
  for (const { name, client } of strataClients) await waitReady(client.$cache, `strata ${name}`)
  const labels = {
    local: ['Strata local hit', '`cache()`, no Redis: an in-process LRU hit (decoded copy of the row).'],
    redis: [
      'Strata Redis hit',
      '`cache({ redis, local: false })`: every hit is a Redis GET, the entry frame checked and decoded.',
    ],
    'two-tier': ['Strata two-tier hit', '`cache({ redis })`: the local tier answers while the invalidation bus is up.'],
  } as const
  for (const { name, client, expectHits } of strataClients) {
    const [label, description] = labels[name as keyof typeof labels]
    contenders.push({
      key: `strata.${name}`,
      label,
      role: 'strata',
      description,
      call: () => client.user.findUnique({ where: { id } }),
      strata: { stats: () => client.$cache.stats(), resetStats: () => client.$cache.resetStats(), expectHits },
      returnsRow: true,
    })
  }

  return { contenders, row, skipped, info, close }
}

export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return url
  }
}
