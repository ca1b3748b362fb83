// The cached Prisma client the API runs on: PostgreSQL through @prisma/adapter-pg, Strata in front of it, and
// Strata's Prometheus metrics registered in the app's registry (latencies need Strata's hooks, so they are wired
// here, where the client is made).
import { PrismaPg } from '@prisma/adapter-pg'
import { type CacheOptions, cache } from 'prisma-strata'
import { strataMetrics } from 'prisma-strata/prometheus'
import type { Registry } from 'prom-client'
import { PrismaClient } from '../../../generated/postgres/client/client.ts'

type Adapter = NonNullable<ConstructorParameters<typeof PrismaClient>[0]['adapter']>

export interface PrismaOptions {
  /** A database URL (with the tables of prisma/models.prisma). Ignored when `adapter` is given. */
  databaseUrl?: string
  /** A driver adapter factory of your own (the tests pass one that counts SQL statements). */
  adapter?: Adapter
  /** A redis:// URL for the shared tier; absent: the in-process tier alone (one process). */
  redisUrl?: string
  /** Namespace of Strata's Redis keys and bus channel. One per database. */
  prefix?: string
  /** Where Strata's metrics go: pass the same registry to `buildApp`. */
  registry?: Registry
  /** Any other Strata option (`ttl`, `redisTimeout`, `onError`, ...). */
  cacheOptions?: CacheOptions
}

export function createPrisma(options: PrismaOptions) {
  const adapter = options.adapter ?? new PrismaPg({ connectionString: options.databaseUrl })
  const metrics = options.registry ? strataMetrics({ registry: options.registry }) : undefined
  const prisma = new PrismaClient({ adapter }).$extends(
    cache({
      ...options.cacheOptions,
      redis: options.redisUrl,
      prefix: options.prefix ?? 'http-api',
      ...metrics?.hooks,
    }),
  )
  metrics?.observe(prisma)
  return prisma
}

/** The client the routes take. */
export type AppPrisma = ReturnType<typeof createPrisma>

/** Closes what Strata opened (bus, Redis), then Prisma's pool. */
export async function closePrisma(prisma: AppPrisma): Promise<void> {
  await prisma.$cache.close()
  await prisma.$disconnect()
}
