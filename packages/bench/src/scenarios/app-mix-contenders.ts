// The contenders of the app mix, each on a database of its own with the same data: uncached Prisma,
// prisma-extension-redis, and Strata two-tier with model-level and with precise invalidation. One database each
// because each cache hears only its own writes: on a shared database one contender's writes would leave another's
// entries stale without any fault of its own, and the check at the end could not tell that from a wrong answer.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { type CacheHandle, type CacheOptions, cache, StrataOptionsError } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase } from '../../../../prisma/database.ts'
import { type CountingAdapter, countingAdapter } from '../../../../test/support/counting-adapter.ts'
import type { AppData } from './app-mix-data.ts'
import { seedApp } from './app-mix-data.ts'
import { type AppClient, type Kind, type KindName, kindNames, kinds } from './app-mix-ops.ts'
import type { Defer } from './cleanup.ts'
import { strataCounters } from './compare-contenders.ts'
import { extensionRedisDescription, type Transformer, withExtensionRedis } from './extension-redis.ts'
import type { Services } from './services.ts'

/**
 * Nothing expires during a run, for every cache: the ideal ceiling never expires an entry, so a contender whose
 * entries did would be measured against the wrong ceiling. A day, not the comparison's 600 s: a steady-state run
 * (`--app-warmup 100000`) on a loaded machine takes longer than that.
 */
export const APP_MIX_TTL_SECONDS = 86_400

export interface AppContender {
  key: 'prisma' | 'extension-redis' | 'strata.model' | 'strata.precise'
  label: string
  description: string
  client: AppClient
  /** The SQL statements its client sent. */
  sql: CountingAdapter<unknown>
  /** An uncached client on the same database: what the database holds, for the check. */
  truth: AppClient
  counters?: () => { hits: number; misses: number; errors: number }
  /** Hits and misses per read kind, where the cache counts them by model and operation. */
  kindCounters?: () => Partial<Record<KindName, KindCounters>>
  resetCounters?: () => void
  strata?: CacheHandle
}

export interface KindCounters {
  hits: number
  misses: number
}

/** Strata's counters of each read kind (every read kind has a model and operation of its own). */
function strataKindCounters(handle: CacheHandle) {
  return () => {
    const models = handle.stats().models
    const out: Partial<Record<KindName, KindCounters>> = {}
    for (const name of kindNames) {
      const at = (kinds[name] as Kind).counted
      const c = at && models[at[0]]?.operations[at[1]]
      if (c) out[name] = { hits: c.localHits + c.redisHits + c.coalesced, misses: c.misses }
    }
    return out
  }
}

/** The per-client invalidation option, when this build of Strata has it. */
type Invalidation = 'model' | 'precise'

/**
 * Whether `cache()` accepts `invalidation: mode`: the message of the StrataOptionsError that names the option when
 * it does not. `cache()` checks its options before any client exists, so asking costs nothing.
 */
export function invalidationRejected(mode: Invalidation): string | undefined {
  try {
    cache({ invalidation: mode } as CacheOptions)
    return undefined
  } catch (error) {
    if (error instanceof StrataOptionsError && /invalidation/.test(error.message)) return error.message
    throw error
  }
}

// User.karma is a BigInt, which JSON.stringify refuses: without this, every read that includes a user fails to be
// stored (a cache write error) and goes to the database every time. A tagged object keeps it a BigInt.
const bigintJson: Transformer = {
  serialize: (data) => JSON.stringify(data, (_key, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)),
  deserialize: (data) =>
    JSON.parse(String(data), (_key, v) =>
      v !== null && typeof v === 'object' && typeof v.$bigint === 'string' && Object.keys(v).length === 1
        ? BigInt(v.$bigint)
        : v,
    ),
}

export interface AppContenders {
  list: AppContender[]
  /** Why a contender did not run (precise invalidation missing from this build). */
  notes: string[]
}

export async function openAppContenders(
  services: Services,
  serverUrl: string,
  data: AppData,
  defer: Defer,
): Promise<AppContenders> {
  const notes: string[] = []
  const modelRejected = invalidationRejected('model')
  const preciseRejected = invalidationRejected('precise')
  if (preciseRejected) notes.push(`precise invalidation not available in this build (${preciseRejected})`)
  if (modelRejected) {
    notes.push(
      'Strata model runs with the default options: this build has no `invalidation` option, and invalidates by model',
    )
  }

  // The first contender uses the scenario's database; the others each get one more, with the same data.
  let first = true
  const database = async () => {
    if (first) {
      first = false
      await seedApp(services.db.url, data)
      return services.db
    }
    const db = await createPostgresDatabase(serverUrl)
    defer(() => db.drop())
    await seedApp(db.url, data)
    return db
  }
  const clients = async () => {
    const db = await database()
    const sql = countingAdapter(new PrismaPg({ connectionString: db.url }))
    const client = new PrismaClient({ adapter: sql.adapter, errorFormat: 'minimal' })
    const truth = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }), errorFormat: 'minimal' })
    defer(() => Promise.all([client.$disconnect(), truth.$disconnect()]))
    return { client, sql, truth: truth as unknown as AppClient }
  }

  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 })
  defer(() => redis.disconnect())
  const strata = async (mode: Invalidation, options: CacheOptions) => {
    const { client, sql, truth } = await clients()
    const cached = client.$extends(
      cache({ redis, prefix: `${services.prefix}-${mode}`, ttl: APP_MIX_TTL_SECONDS, ...options }),
    )
    defer(() => cached.$cache.close())
    if (!(await cached.$cache.whenReady(10_000))) throw new Error('Strata: the invalidation bus did not subscribe')
    const handle = cached.$cache
    return {
      client: cached as unknown as AppClient,
      sql,
      truth,
      strata: handle,
      counters: strataCounters(handle),
      kindCounters: strataKindCounters(handle),
      resetCounters: () => handle.resetStats(),
    }
  }

  const plain = await clients()
  const extensionBase = await clients()
  const extension = withExtensionRedis(extensionBase.client, {
    services,
    defer,
    ttl: APP_MIX_TTL_SECONDS,
    transformer: bigintJson,
  })
  const list: AppContender[] = [
    {
      key: 'prisma',
      label: 'Prisma, uncached',
      description: 'Prisma 7 + @prisma/adapter-pg, errorFormat minimal: what every cache is compared with.',
      client: plain.client as unknown as AppClient,
      sql: plain.sql,
      truth: plain.truth,
    },
    {
      key: 'extension-redis',
      label: 'prisma-extension-redis',
      description: `${extensionRedisDescription()} BigInt values stored as tagged JSON (its \`transformer\` option).`,
      client: extension.client as unknown as AppClient,
      sql: extensionBase.sql,
      truth: extensionBase.truth,
      counters: extension.counters,
      resetCounters: extension.resetCounters,
    },
    {
      key: 'strata.model',
      label: 'Strata model',
      description: modelRejected
        ? '`cache({ redis })` (two-tier): a write makes stale every cached read of the models it touches.'
        : "`cache({ redis, invalidation: 'model' })` (two-tier): a write makes stale every cached read of the models it touches.",
      ...(await strata('model', modelRejected ? {} : ({ invalidation: 'model' } as CacheOptions))),
    },
  ]
  if (!preciseRejected) {
    list.push({
      key: 'strata.precise',
      label: 'Strata precise',
      description:
        "`cache({ redis, invalidation: 'precise' })` (two-tier): a write makes stale only the cached reads whose " +
        'equality predicates its rows match.',
      ...(await strata('precise', { invalidation: 'precise' } as CacheOptions)),
    })
  }
  return { list, notes }
}
