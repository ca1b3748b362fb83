// prisma-extension-redis as a contender: auto-cache every read, invalidate the written model's keys on a write, on
// a connection of its own to logical database 1 of the scenario's Redis server (its write invalidation SCANs the
// whole keyspace of its database, so a database of its own is its best case). Its keys are deleted at the end.
import { Redis } from 'ioredis'
import { createMetricsCollector, PrismaExtensionRedis } from 'prisma-extension-redis'
import type { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { packageVersion } from '../machine.ts'
import type { Defer } from './cleanup.ts'
import { countKeys, unlinkKeys } from './redis-keys.ts'
import type { Services } from './services.ts'

/** How it turns an entry into the string it stores, and back (its `transformer` option). */
export interface Transformer {
  serialize: (data: unknown) => string
  deserialize: (data: unknown) => unknown
}

export const extensionRedisDescription = () =>
  `prisma-extension-redis ${packageVersion('prisma-extension-redis')}: auto-cache every read in Redis (type STRING, JSON text), ` +
  '`invalidateOnWrite: true` (a write SCANs for the model’s keys and UNLINKs them).'

/** `client` with prisma-extension-redis, every entry kept `ttl` seconds; its keys are deleted through `defer`. */
export function withExtensionRedis(
  client: PrismaClient,
  options: { services: Services; defer: Defer; ttl: number; transformer?: Transformer },
) {
  const { services, defer, ttl, transformer } = options
  const redis = new Redis(services.redisUrl, { db: 1, maxRetriesPerRequest: 2 })
  defer(() => redis.disconnect())
  const prefix = `${services.prefix.replace(/-/g, '_')}_x`
  defer(() => unlinkKeys(redis, `${prefix}*`))
  const metrics = createMetricsCollector()
  const extended = client.$extends(
    PrismaExtensionRedis({
      client: redis,
      config: {
        type: 'STRING',
        ttl,
        stale: 0,
        auto: { invalidateOnWrite: true, ttl },
        cacheKey: { prefix },
        metricsCollector: metrics,
        ...(transformer ? { transformer } : {}),
      },
    }),
  )
  return {
    client: extended,
    redis,
    prefix,
    /** Its own counts: a stale hit is a hit (it sent no query). */
    counters: () => {
      const m = metrics.getMetrics()
      return { hits: m.hits + m.staleHits, misses: m.misses, errors: m.errors }
    },
    resetCounters: () => metrics.reset(),
    entries: () => countKeys(redis, `${prefix}*`),
  }
}
