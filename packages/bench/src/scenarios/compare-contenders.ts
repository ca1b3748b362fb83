// The contenders of the comparison, all on one PostgreSQL database and one Redis server: plain Prisma, the
// query-extension floor, prisma-extension-redis, and Strata local-only, Redis-only and two-tier; for the latency cases
// also the round-trip floor. Each has its own Prisma client, whose SQL is counted below Prisma, so every contender's
// database traffic is measured the same way.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { type CacheHandle, type CacheOptions, cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { type CountingAdapter, countingAdapter } from '../../../../test/support/counting-adapter.ts'
import type { Defer } from './cleanup.ts'
import { extensionRedisDescription, withExtensionRedis } from './extension-redis.ts'
import { countKeys } from './redis-keys.ts'
import type { Services } from './services.ts'

/** The list read: a page of posts with their comments and tags. */
export const listArgs = (authorId: number) => ({
  where: { authorId },
  include: { comments: true, tags: true },
  orderBy: { id: 'asc' as const },
})

/** The few `prisma.post` calls the comparison makes. */
export interface Posts {
  findUnique(args: { where: { id: number } }): PromiseLike<unknown>
  findFirst(args: { where: { id: number; views: { lt: number } } }): PromiseLike<unknown>
  findMany(args: ReturnType<typeof listArgs> | { where: { id: { gte: number; lte: number } } }): PromiseLike<unknown[]>
  update(args: { where: { id: number }; data: { views?: number; title?: string } }): PromiseLike<unknown>
}

export type ContenderKey =
  | 'prisma'
  | 'floor'
  | 'round-trip'
  | 'extension-redis'
  | 'strata.local'
  | 'strata.redis'
  | 'strata.two-tier'
  | 'strata.write-through'

export interface CompareContender {
  key: ContenderKey
  label: string
  description: string
  posts: Posts
  /** The SQL statements its client sent. */
  sql: CountingAdapter<unknown>
  /** Reads the cache answered and reads it sent to the database, as the cache itself counts them. */
  counters?: () => { hits: number; misses: number; errors: number }
  resetCounters?: () => void
  strata?: CacheHandle
  /** Entries it holds now (local tier and/or Redis). */
  entries?: () => Promise<number>
}

export interface Contenders {
  list: CompareContender[]
  /**
   * The round-trip floor, run in the latency cases only: what a cache that asks Redis once per read cannot go
   * below, whatever its design. A hit is one `getBuffer` of the answer packed by msgpackr and its unpack; a miss is
   * one `getBuffer` (of a key that holds nothing), then the query; nothing is stored.
   */
  roundTrip: CompareContender
  /**
   * The query-extension floor answers reads with this value when set (a hit), else passes them through; the
   * round-trip floor then reads it packed from Redis.
   */
  floorAnswer: { value: unknown }
  /** prisma-extension-redis's own Redis connection (its own logical database), and its key prefix. */
  extensionRedis: Redis
  extensionPrefix: string
  /**
   * Caches point reads of these rows in prisma-extension-redis as its own reads would: its `cache()` under the key
   * its auto-cache gives `findUnique({ where: { id } })` (`getAutoKey`), with the same envelope and TTL.
   */
  extensionPut(rows: { id: number }[]): Promise<void>
  /** The connection Strata uses, and the key prefix of Strata's two-tier and Redis-only instances. */
  redis: Redis
  strataPrefixes: { redis: string; twoTier: string }
  /** One more Strata instance on its own Prisma client (closed with the scenario). */
  openStrata(options: CacheOptions): Promise<StrataInstance>
}

export interface StrataInstance {
  posts: Posts
  sql: CountingAdapter<unknown>
  strata: CacheHandle
}

const MINIMAL = { errorFormat: 'minimal' as const }
/** Long enough that nothing expires during the run, for every cache. */
export const TTL_SECONDS = 600

/** Strata's counters as `CompareContender.counters`: a coalesced read is a hit (it sent no query of its own). */
export function strataCounters(handle: CacheHandle) {
  return () => {
    const s = handle.stats()
    const errors = Object.values(s.errors).reduce((a, b) => a + b, 0)
    return { hits: s.localHits + s.redisHits + s.coalesced, misses: s.misses, errors }
  }
}

export async function openContenders(services: Services, defer: Defer): Promise<Contenders> {
  const newClient = () => {
    const sql = countingAdapter(new PrismaPg({ connectionString: services.db.url }))
    const client = new PrismaClient({ adapter: sql.adapter, ...MINIMAL })
    defer(() => client.$disconnect())
    return { client, sql }
  }
  const posts = (client: unknown) => (client as { post: Posts }).post

  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 })
  defer(() => redis.disconnect())
  const plain = newClient()
  const floor = newClient()
  const floorAnswer: { value: unknown } = { value: undefined }
  const floorClient = floor.client.$extends({
    query: {
      $allModels: {
        $allOperations({ args, query }) {
          return floorAnswer.value === undefined ? query(args) : (floorAnswer.value as never)
        },
      },
    },
  })

  const roundTrip = newClient()
  const packr = new Packr()
  const roundTripKeys = { hit: `${services.prefix}-floor:hit`, none: `${services.prefix}-floor:none` }
  defer(async () => {
    await redis.del(roundTripKeys.hit)
  })
  let packed: unknown
  const roundTripRead =
    (operation: 'findUnique' | 'findFirst' | 'findMany') =>
    async (args: never): Promise<unknown> => {
      const answer = floorAnswer.value
      if (answer !== undefined) {
        // A hit case: the answer is stored packed once, then every call reads and unpacks it.
        if (packed !== answer) {
          await redis.set(roundTripKeys.hit, packr.pack(answer), 'EX', TTL_SECONDS)
          packed = answer
        }
        return packr.unpack((await redis.getBuffer(roundTripKeys.hit)) as Buffer)
      }
      await redis.getBuffer(roundTripKeys.none)
      return (roundTrip.client.post[operation] as (a: never) => Promise<unknown>)(args)
    }
  const roundTripPosts = {
    findUnique: roundTripRead('findUnique'),
    findFirst: roundTripRead('findFirst'),
    findMany: roundTripRead('findMany'),
    update: (args: never) => roundTrip.client.post.update(args),
  } as unknown as Posts

  const extensionPlain = newClient()
  const extension = withExtensionRedis(extensionPlain.client, { services, defer, ttl: TTL_SECONDS })
  const extensionClient = extension.client
  const extensionPut = async (rows: { id: number }[]) => {
    let next = 0
    const lane = async () => {
      while (next < rows.length) {
        const row = rows[next++] as { id: number }
        const args = { where: { id: row.id } }
        const key = extensionClient.getAutoKey({ args, model: 'Post', operation: 'findUnique' })
        await extensionClient.cache({ key, value: row, ttl: TTL_SECONDS })
      }
    }
    await Promise.all(Array.from({ length: 32 }, lane))
  }

  const strataPrefixes = { redis: `${services.prefix}-r`, twoTier: `${services.prefix}-t` }
  const openStrata = async (options: CacheOptions): Promise<StrataInstance> => {
    const { client, sql } = newClient()
    const cached = client.$extends(cache({ ttl: TTL_SECONDS, ...options }))
    defer(() => cached.$cache.close())
    if (!(await cached.$cache.whenReady(10_000))) throw new Error('Strata: the invalidation bus did not subscribe')
    return { posts: posts(cached), sql, strata: cached.$cache }
  }
  const local = await openStrata({})
  const redisOnly = await openStrata({ redis, prefix: strataPrefixes.redis, local: false })
  const twoTier = await openStrata({ redis, prefix: strataPrefixes.twoTier })
  // Entry keys are `<prefix>:…`; version and lease keys start with `{<prefix>}`.
  const redisEntries = (prefix: string) => () => countKeys(redis, `${prefix}:*`)

  const list: CompareContender[] = [
    {
      key: 'prisma',
      label: 'Prisma, uncached',
      description: 'Prisma 7 + @prisma/adapter-pg, errorFormat minimal: what every cache is compared with.',
      posts: posts(plain.client),
      sql: plain.sql,
    },
    {
      key: 'floor',
      label: 'query-extension floor',
      description:
        'An empty `$extends({ query: { $allModels: { $allOperations } } })`: on a hit scenario it returns the ' +
        'expected result at once (the fastest hit any query-component cache can serve), elsewhere it passes the ' +
        'query through (the least such a cache adds).',
      posts: posts(floorClient),
      sql: floor.sql,
    },
    {
      key: 'extension-redis',
      label: 'prisma-extension-redis',
      description: extensionRedisDescription(),
      posts: posts(extensionClient),
      sql: extensionPlain.sql,
      counters: extension.counters,
      resetCounters: extension.resetCounters,
      entries: extension.entries,
    },
    {
      key: 'strata.local',
      label: 'Strata local-only',
      description: '`cache()` without Redis: the in-process LRU tier alone.',
      ...local,
      counters: strataCounters(local.strata),
      resetCounters: () => local.strata.resetStats(),
      entries: async () => local.strata.stats().local.entries,
    },
    {
      key: 'strata.redis',
      label: 'Strata Redis-only',
      description: '`cache({ redis, local: false })`: every hit is a Redis GET.',
      ...redisOnly,
      counters: strataCounters(redisOnly.strata),
      resetCounters: () => redisOnly.strata.resetStats(),
      entries: redisEntries(strataPrefixes.redis),
    },
    {
      key: 'strata.two-tier',
      label: 'Strata two-tier',
      description: '`cache({ redis })`: the local tier in front of Redis.',
      ...twoTier,
      counters: strataCounters(twoTier.strata),
      resetCounters: () => twoTier.strata.resetStats(),
      entries: redisEntries(strataPrefixes.twoTier),
    },
  ]
  return {
    list,
    roundTrip: {
      key: 'round-trip',
      label: 'round-trip floor',
      description:
        'One ioredis `getBuffer` per read, no cache logic: a hit unpacks the answer stored packed by msgpackr, a ' +
        'miss sends the query after the GET (of a key holding nothing). The least any cache that asks Redis on a ' +
        'read can cost.',
      posts: roundTripPosts,
      sql: roundTrip.sql,
    },
    floorAnswer,
    extensionRedis: extension.redis,
    extensionPrefix: extension.prefix,
    extensionPut,
    redis,
    strataPrefixes,
    openStrata,
  }
}
