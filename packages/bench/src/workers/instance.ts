// One "instance" of an application inside a worker process: its own Prisma client on PostgreSQL with the SQL it
// sends counted below Prisma, and, for Strata, its own counted Redis connection and `cache(...)`.
import { PrismaPg } from '@prisma/adapter-pg'
import { type CacheHandle, type CacheOptions, cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { type CountingAdapter, countingAdapter } from '../../../../test/support/counting-adapter.ts'
import { type CountedRedis, countedRedis } from './counted-redis.ts'

export interface UserRow {
  email: string
  name: string | null
}

/** The few `prisma.user` calls the workers make. */
export interface Users {
  findUnique(args: { where: { id: number } }): PromiseLike<UserRow | null>
  findFirst(args: { where: { email: string } }): PromiseLike<UserRow | null>
  update(args: { where: { id: number }; data: { name: string } }): PromiseLike<unknown>
}

export interface Instance {
  users: Users
  /** Every SQL statement this instance sent. */
  sql: CountingAdapter<unknown>
  /** Its Redis connection (Strata only). */
  redis: CountedRedis | undefined
  /** `$cache` (Strata only). */
  strata: CacheHandle | undefined
  close(): Promise<void>
}

/** Plain Prisma when `strata` is undefined; else `cache({ ...strata, redis })` on a counted connection. */
export async function openInstance(
  dbUrl: string,
  redisUrl: string,
  strata: Omit<CacheOptions, 'redis'> | undefined,
): Promise<Instance> {
  const sql = countingAdapter(new PrismaPg({ connectionString: dbUrl }))
  const prisma = new PrismaClient({ adapter: sql.adapter, errorFormat: 'minimal' })
  await prisma.$connect()
  if (!strata) {
    return { users: prisma.user, sql, redis: undefined, strata: undefined, close: () => prisma.$disconnect() }
  }
  const redis = countedRedis(redisUrl)
  const cached = prisma.$extends(cache({ ...strata, redis: redis.redis }))
  if (!(await cached.$cache.whenReady(10_000))) throw new Error('the invalidation bus did not subscribe within 10 s')
  return {
    // The extended delegate's generic signatures do not narrow to this interface; it is the same call shape.
    users: cached.user as unknown as Users,
    sql,
    redis,
    strata: cached.$cache,
    close: async () => {
      await cached.$cache.close()
      redis.redis.disconnect()
      await prisma.$disconnect()
    },
  }
}
