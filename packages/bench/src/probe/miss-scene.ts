// What the miss probes share: a database (PostgreSQL at DATABASE_URL, or SQLite with DB=sqlite) holding one post,
// an uncached client, new clients on it, a Redis connection, and the options of each way to run Strata.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import type { CacheOptions } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase, createSqliteDatabase, type TestDatabase } from '../../../../prisma/database.ts'
import type { Defer } from '../scenarios/cleanup.ts'

export type Mode = 'two' | 'redis' | 'local' | 'redis-hit' | 'redis-list'

/** What a scene's read is made through: an uncached client, or one extended by a build of Strata. */
export type PostReads = {
  post: { findFirst(args: unknown): Promise<unknown>; findMany(args: unknown): Promise<unknown> }
}

/** A client extended by a build of Strata, as the probes use it. */
export type Cached = PostReads & {
  $cache: {
    whenReady(ms: number): Promise<boolean>
    close(): Promise<void>
    stats(): { redisHits: number; misses: number }
  }
}

export interface MissScene {
  /** An uncached client. */
  plain: PrismaClient
  /** A new client on the same database (disconnected at cleanup). */
  client(): PrismaClient
  /** The read each call makes: new arguments each call (a miss), or the same every call for `redis-hit`. */
  args(): { where: { id: number; views: { lt: number } } }
  /** Strata's options for `mode`, under a key prefix of `name`'s. */
  options(name: string): CacheOptions
  /**
   * The read each call makes through `on`: `findFirst(args())`, or for `redis-list` the comparison's list read (one
   * author's 10 posts with their comments and tags), the same every call.
   */
  read(on: PostReads): Promise<unknown>
  /** A new client extended by `make` (the `cache` of some build) with `options(name)`, ready (closed at cleanup). */
  cached(make: (options: CacheOptions) => unknown, name: string): Promise<Cached>
}

/** The comparison's list read: one author's 10 posts with their comments and tags (made once per database). */
export async function listRead(client: PrismaClient) {
  let author = await client.user.findFirst({ where: { email: 'list-read@example.com' } })
  if (!author) {
    author = await client.user.create({ data: { email: 'list-read@example.com', name: 'Ada' } })
    const authorId = author.id
    for (let i = 0; i < 10; i++) {
      await client.post.create({
        data: {
          title: `Post ${i} of the list`,
          published: true,
          authorId,
          comments: { create: [1, 2, 3].map((n) => ({ body: `Comment ${n}`, authorId })) },
          tags: { connectOrCreate: ['cache', 'prisma'].map((name) => ({ where: { name }, create: { name } })) },
        },
      })
    }
  }
  return {
    where: { authorId: author.id },
    include: { comments: true, tags: true },
    orderBy: { id: 'asc' as const },
  }
}

export async function missScene(mode: Mode, defer: Defer): Promise<MissScene> {
  let db: TestDatabase
  let make: () => PrismaClient
  if (process.env.DB === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3')
    const { PrismaClient: SqliteClient } = await import('../../../../generated/sqlite/client/client.ts')
    db = await createSqliteDatabase()
    // The same models: the two generated clients differ only in their provider.
    make = () =>
      new SqliteClient({
        adapter: new PrismaBetterSqlite3({ url: db.url }),
        errorFormat: 'minimal',
      }) as unknown as PrismaClient
  } else {
    db = await createPostgresDatabase(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
    make = () => new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }), errorFormat: 'minimal' })
  }
  defer(() => db.drop())
  const client = () => {
    const made = make()
    defer(() => made.$disconnect())
    return made
  }
  const plain = client()
  const post = await plain.post.create({ data: { title: 'hot', published: true, views: 0 } })
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  defer(() => redis.disconnect())
  let n = 0
  const list = mode === 'redis-list' ? await listRead(plain) : undefined
  const args = () => ({ where: { id: post.id, views: { lt: 1_000_000_000 + (mode === 'redis-hit' ? 0 : n++) } } })
  const options = (name: string): CacheOptions => {
    if (mode === 'local') return { ttl: 600 }
    const tiers = mode === 'two' ? {} : { local: false as const }
    return { ttl: 600, redis, prefix: `${name}-${process.pid}`, ...tiers }
  }
  return {
    plain,
    client,
    args,
    options,
    read: (on) => (list ? on.post.findMany(list) : on.post.findFirst(args())),
    async cached(make, name) {
      const extended = client().$extends(make(options(name)) as never) as unknown as Cached
      defer(() => extended.$cache.close())
      await extended.$cache.whenReady(5000)
      return extended
    },
  }
}
