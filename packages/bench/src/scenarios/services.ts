// What a multi-process scenario runs on: a throwaway PostgreSQL database (on the server at --postgres) and a
// throwaway redis-server (or, with --shared-redis, the server at --redis under a key prefix of the run's own).
import { Redis } from 'ioredis'
import { createPostgresDatabase, type TestDatabase } from '../../../../prisma/database.ts'
import { postgresAnswers, redact } from '../contenders.ts'
import type { BenchOptions } from '../options.ts'
import type { Defer } from './cleanup.ts'
import { startRedisServer } from './redis-server.ts'

export interface Services {
  db: TestDatabase
  redisUrl: string
  /** The prefix of every Redis key and channel of this scenario. */
  prefix: string
  /** Command calls by name on the Redis server, when it is ours alone; undefined on a shared server. */
  commandCalls: (() => Promise<Record<string, number>>) | undefined
  info: { postgresVersion: string; redis: string }
}

/** The services, released through `defer`; or why the scenario cannot run. */
export async function startServices(options: BenchOptions, defer: Defer): Promise<Services | { skipped: string }> {
  if (!options.postgresUrl) return { skipped: '--no-postgres' }
  const postgresVersion = await postgresAnswers(options.postgresUrl)
  if (postgresVersion === undefined) return { skipped: `no PostgreSQL answered at ${redact(options.postgresUrl)}` }
  const db = await createPostgresDatabase(options.postgresUrl)
  defer(() => db.drop())
  const prefix = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  if (options.multi.sharedRedis) {
    defer(() => deleteKeys(options.redisUrl, prefix))
    return {
      db,
      redisUrl: options.redisUrl,
      prefix,
      commandCalls: undefined,
      info: { postgresVersion, redis: 'shared' },
    }
  }
  const server = await startRedisServer()
  defer(() => server.stop())
  return {
    db,
    redisUrl: server.url,
    prefix,
    commandCalls: () => server.commandCalls(),
    info: { postgresVersion, redis: `throwaway redis-server ${server.version} on ${server.url}` },
  }
}

/** Deletes every key of the run on a shared server (version keys have no TTL). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000)
      if (keys.length) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
