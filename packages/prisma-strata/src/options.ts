import type { RedisOptions } from 'ioredis'
import { type StrataError, StrataOptionsError } from './errors'
import type { Invalidation, ModelPolicy } from './policy/model-policy'
import type { StrataSchema } from './schema/model-graph'
import type { RedisClient } from './store/redis-client'

export type { Invalidation, ModelPolicy }

/** Cross-instance stampede protection: one instance fills a missing entry while the others wait for it. */
export interface LeaseOptions {
  /** Milliseconds a lease lives: a holder that dies blocks no one past it. Default: 5000. */
  timeout?: number
  /** Milliseconds an instance waits for another's fill before asking the database itself, at most `timeout`. Default: 250. */
  wait?: number
}

/** The in-process tier. */
export interface LocalTierOptions {
  /**
   * Bound on the heap the tier holds: each entry counts what its decoded value, key and bookkeeping take in V8's
   * heap (an upper bound). Default: 64 MiB.
   */
  maxBytes?: number
  /**
   * Longest seconds an entry stays in this process, whatever its TTL: bounds how long a lost invalidation
   * message can leave this process stale. Default: no cap beyond the entry's own TTL.
   */
  ttl?: number
}

/**
 * Following PostgreSQL's change stream (logical replication, `pgoutput`), so writes made outside Prisma (psql, a
 * migration, another service) make cached reads stale too. One instance per prefix follows the slot at a time.
 * Needs `redis`, and the packages `pg-logical-replication` and `pg`.
 */
export interface ChangesOptions {
  postgres: {
    /** A PostgreSQL URL whose user may replicate (`REPLICATION` role attribute, or the provider's equivalent). */
    connectionString: string
    /** The logical replication slot (created by `npx prisma-strata changes setup`). Default: `'strata'`. */
    slot?: string
    /** The publication the slot follows (created by the same command). Default: `'strata'`. */
    publication?: string
  }
  /**
   * Milliseconds the follower's lease in Redis lives without renewal: if the follower dies, another instance takes
   * over within about this long. Default: 10000.
   */
  leaseTimeout?: number
}

/** Options of `cache(...)`. Every field is optional: `cache()` alone runs on the in-process tier. */
export interface CacheOptions {
  /**
   * An ioredis `Redis`/`Cluster` (ioredis 5 or 6), ioredis options, or a `redis://` URL. Absent: the in-process tier
   * only.
   */
  redis?: RedisClient | RedisOptions | string
  /** Namespace of every Redis key and channel. Default: `'strata'`. */
  prefix?: string
  /** Default seconds an entry lives; every entry expires. Default: 60. */
  ttl?: number
  /** Seconds a "no such row" result (`null`, or `*OrThrow`'s not-found) lives. Default: 5. */
  negativeTtl?: number
  /** Each TTL is shortened by a random fraction up to this, so entries filled together expire apart. Default: 0.1. */
  jitter?: number
  /**
   * Stale-while-revalidate: seconds after an entry's TTL during which it is still served at once while one refresh
   * runs in the background (once per key across instances when `lease` is on). Only time-expired entries are
   * served stale; an entry a write made stale never is. Default: 0 (off).
   */
  swr?: number
  /** Seconds after an entry's TTL during which it is served when the database fails to answer. Default: 0 (off). */
  grace?: number
  /** Leases in Redis against stampedes across instances; `true` for the defaults. Default: off. */
  lease?: boolean | LeaseOptions
  /** The in-process tier, or `false` to turn it off (then every hit is a Redis round trip). Default: `{}`. */
  local?: LocalTierOptions | false
  /**
   * The module `prisma-strata-generator` emits (`import { schema } from './generated/strata'`): keys, foreign keys,
   * referential actions and `/// @cache` policies. Default: read from the schema text Prisma's client carries;
   * without either, invalidation is conservative.
   */
  schema?: StrataSchema
  /** Per-model policy, by model name as in the schema; `false` turns caching off for that model. */
  models?: Record<string, ModelPolicy | false>
  /** How writes make cached reads stale: by the rows they change, or by model (see `Invalidation`). Default: 'precise'. */
  invalidation?: Invalidation
  /** Milliseconds a Redis call may take before it counts as failed and the database answers. Default: 200. */
  redisTimeout?: number
  /**
   * Milliseconds between heartbeats on a quiet invalidation channel (at most `staleness / 4`). An instance that
   * hears nothing on it (not even its own heartbeat) for 3 of them drops its local state and reconnects the bus.
   * Default: 2000.
   */
  heartbeat?: number
  /**
   * Milliseconds after a write completes within which every other instance stops serving what it made stale,
   * through Redis stalls, restarts and partitions of any reader: an instance trusts its local versions only while
   * it hears the invalidation channel (it beats on a quiet channel). Does not hold for a writer cut off from Redis
   * alone. Default: 1000.
   */
  staleness?: number
  /**
   * Largest encoded result kept, in bytes. A larger result is returned but not cached, and a larger value found
   * in Redis is not read: both count as `E_ENTRY_TOO_LARGE`. Default: 1 MiB.
   */
  maxEntryBytes?: number
  /**
   * Partitions the cache, e.g. by tenant: `() => tenantStorage.getStore()?.tenantId`. Results read under one
   * context are never served under another; a string and a number are two (`'1'` is not `1`). A read for which
   * it returns `undefined` is not cached (it goes to the database) and is reported as `E_CONTEXT_MISSING`: a
   * forgotten context never shares an entry. Any other value (an object, a Promise) or a throw: `E_CONTEXT_INVALID`.
   * Default: none (one shared cache).
   */
  context?: () => string | number | undefined
  /** Called with every cache-side fault (never thrown to the caller). Default: a rate-limited `console.warn`. */
  onError?: (error: StrataError) => void
  /** Called on every cache hit. Keep it cheap: it runs on the hit path. Default: none. */
  onHit?: (event: HitEvent) => void
  /** Called after every database query a miss made, with its duration. Default: none. */
  onMiss?: (event: MissEvent) => void
  /** Called when versions are bumped: by a write, a transaction's commit, or `$cache.invalidate`. Default: none. */
  onInvalidate?: (event: InvalidateEvent) => void
  /** Follow PostgreSQL's change stream: writes from outside Prisma invalidate too. Default: off. */
  changes?: ChangesOptions
}

export interface HitEvent {
  model: string
  operation: string
  tier: 'local' | 'redis'
  /** Served past its TTL, within `swr` or `grace`. */
  stale: boolean
  /** Milliseconds from the call to the answer, for Redis hits (a local hit takes about a microsecond). */
  durationMs?: number
}

export interface MissEvent {
  model: string
  operation: string
  /** Milliseconds the database (or a `wrap` loader) took. */
  durationMs: number
}

export interface InvalidateEvent {
  /** Models whose cached reads became stale. */
  models: string[]
  /** How many tags were invalidated (tags are stored hashed). */
  tags: number
}

/** Per-query option, on every read method: `prisma.user.findMany({ where, cache: { ttl: 10 } })`. */
export interface QueryCacheOptions {
  /** Seconds this entry lives. Default: the model's TTL. */
  ttl?: number
  /** Stale-while-revalidate window of this entry, in seconds. Default: the model's. */
  swr?: number
  /** Names this entry; `$cache.invalidate({ tags })` drops every entry carrying one of them. */
  tags?: string[]
  /** A name of your own for this entry, used instead of the hash of the arguments. */
  key?: string
}

/** The per-query `cache` argument: options, or `false` to bypass the cache for this call. */
export type QueryCacheArg = QueryCacheOptions | false

/** Options with every default applied. */
export interface ResolvedOptions {
  redis: CacheOptions['redis']
  prefix: string
  ttl: number
  negativeTtl: number
  jitter: number
  swr: number
  grace: number
  lease: { timeout: number; wait: number } | false
  local: { maxBytes: number; ttl: number | undefined } | false
  models: Record<string, ModelPolicy | false>
  invalidation: Invalidation
  schema: StrataSchema | undefined
  redisTimeout: number
  heartbeat: number
  staleness: number
  maxEntryBytes: number
  context: (() => string | number | undefined) | undefined
  onError: ((error: StrataError) => void) | undefined
  onHit: ((event: HitEvent) => void) | undefined
  onMiss: ((event: MissEvent) => void) | undefined
  onInvalidate: ((event: InvalidateEvent) => void) | undefined
  changes: ResolvedChanges | undefined
}

export interface ResolvedChanges {
  connectionString: string
  slot: string
  publication: string
  leaseTimeoutMs: number
}

const topLevelKeys = [
  'redis',
  'prefix',
  'ttl',
  'negativeTtl',
  'jitter',
  'swr',
  'grace',
  'lease',
  'local',
  'models',
  'invalidation',
  'schema',
  'redisTimeout',
  'heartbeat',
  'staleness',
  'maxEntryBytes',
  'context',
  'onError',
  'onHit',
  'onMiss',
  'onInvalidate',
  'changes',
]

function fail(path: string, problem: string): never {
  throw new StrataOptionsError(`cache(): \`${path}\` ${problem}`)
}

function checkKeys(value: object, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${path}${key}`, `is not an option. Allowed: ${allowed.join(', ')}.`)
  }
}

/** A number of seconds that may be zero (a window that is off). */
function nonNegative(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(path, `must be a number of seconds, 0 or more, got ${JSON.stringify(value)}.`)
  }
  return value
}

/** A number of seconds or milliseconds that must be positive and finite. */
function positive(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(path, `must be a positive number, got ${JSON.stringify(value)}.`)
  }
  return value
}

export function validateModelPolicy(value: unknown, path: string): ModelPolicy | false {
  if (value === false) return false
  if (!isObject(value)) fail(path, 'must be `false` or an object like `{ ttl: 300 }`.')
  const at = path ? `${path}.` : ''
  checkKeys(value, ['ttl', 'negativeTtl', 'swr', 'grace', 'strategy', 'dependsOn', 'invalidation'], at)
  const policy = value as ModelPolicy
  const { dependsOn } = policy
  if (dependsOn !== undefined && !(Array.isArray(dependsOn) && dependsOn.every((m) => typeof m === 'string' && m))) {
    fail(
      `${at}dependsOn`,
      `must be a list of model names, e.g. ["Post"], or [] for TTL only; got ${JSON.stringify(dependsOn)}.`,
    )
  }
  if (policy.strategy !== undefined && policy.strategy !== 'invalidate' && policy.strategy !== 'write-through') {
    fail(`${at}strategy`, `must be "invalidate" or "write-through", got ${JSON.stringify(policy.strategy)}.`)
  }
  invalidation(policy.invalidation, `${at}invalidation`)
  positive(policy.ttl, `${at}ttl`)
  positive(policy.negativeTtl, `${at}negativeTtl`)
  nonNegative(policy.swr, `${at}swr`)
  nonNegative(policy.grace, `${at}grace`)
  return policy
}

function invalidation(value: unknown, path: string): Invalidation | undefined {
  if (value !== undefined && value !== 'model' && value !== 'precise') {
    fail(path, `must be "precise" or "model", got ${JSON.stringify(value)}.`)
  }
  return value
}

/** The staleness bound: beats go out every quarter of it, so below 40 ms the channel would carry mostly beats. */
function staleness(value: unknown): number {
  if (value === undefined) return 1000
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 40) {
    fail('staleness', `must be a number of milliseconds, 40 or more, got ${JSON.stringify(value)}.`)
  }
  return value
}

/** A slot or publication name: PostgreSQL allows slot names of lower-case letters, digits and `_` only. */
function replicationName(value: unknown, path: string): string {
  if (value === undefined) return 'strata'
  if (typeof value !== 'string' || !/^[a-z0-9_]{1,63}$/.test(value)) {
    fail(path, `must be 1-63 characters of a-z 0-9 _ (as PostgreSQL names slots), got ${JSON.stringify(value)}.`)
  }
  return value
}

function changes(value: unknown, redis: unknown): ResolvedChanges | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail('changes', 'must be an object like `{ postgres: { connectionString } }`.')
  checkKeys(value, ['postgres', 'leaseTimeout'], 'changes.')
  const { postgres, leaseTimeout } = value as ChangesOptions
  if (!isObject(postgres)) {
    fail('changes.postgres', 'must be an object like `{ connectionString: process.env.DATABASE_URL }`.')
  }
  checkKeys(postgres, ['connectionString', 'slot', 'publication'], 'changes.postgres.')
  const { connectionString } = postgres
  if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
    fail('changes.postgres.connectionString', 'must be a postgres:// or postgresql:// URL.')
  }
  if (redis === undefined) {
    fail(
      'changes',
      'needs `redis`: the instances of a prefix elect their one follower there, and its bumps reach the others through it.',
    )
  }
  return {
    connectionString,
    slot: replicationName(postgres.slot, 'changes.postgres.slot'),
    publication: replicationName(postgres.publication, 'changes.postgres.publication'),
    leaseTimeoutMs: positive(leaseTimeout, 'changes.leaseTimeout') ?? 10_000,
  }
}

/** An object that is not an array: what every option that takes fields must be. */
function isObject<T>(value: T): value is Exclude<T, readonly unknown[]> & object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The ioredis `keyPrefix` of a client (a Redis or a Cluster) or of options, if any. */
function keyPrefixOf(redis: unknown): unknown {
  if (typeof redis !== 'object' || redis === null) return undefined
  const given = redis as {
    keyPrefix?: unknown
    options?: { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } }
  }
  return given.keyPrefix || given.options?.keyPrefix || given.options?.redisOptions?.keyPrefix
}

/** Checks every option and applies defaults. Throws `StrataOptionsError` saying what to fix. */
export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  if (!isObject(options)) fail('options', 'must be an object.')
  checkKeys(options, topLevelKeys, '')
  const { redis } = options
  if (redis !== undefined) {
    const ok =
      (typeof redis === 'string' && /^rediss?:\/\//.test(redis)) || (typeof redis === 'object' && redis !== null)
    if (!ok) fail('redis', 'must be an ioredis Redis or Cluster, ioredis options, or a redis:// URL.')
    const keyPrefix = keyPrefixOf(redis)
    if (keyPrefix) {
      fail(
        'redis',
        `has the ioredis \`keyPrefix\` ${JSON.stringify(keyPrefix)}, which ioredis cannot apply to the keys Strata's scripts build: pass a client without it, and \`prefix\` to keep apps apart.`,
      )
    }
  }
  const prefix = options.prefix ?? 'strata'
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    fail('prefix', 'must be 1-64 characters of A-Z a-z 0-9 _ . : - (braces would break Redis Cluster hash tags).')
  }
  const jitter = options.jitter ?? 0.1
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) fail('jitter', 'must be a number in [0, 1).')
  let local: ResolvedOptions['local'] = { maxBytes: 64 * 1024 * 1024, ttl: undefined }
  if (options.local === false) local = false
  else if (options.local !== undefined) {
    if (!isObject(options.local)) fail('local', 'must be `false` or an object.')
    checkKeys(options.local, ['maxBytes', 'ttl'], 'local.')
    local = {
      maxBytes: positive(options.local.maxBytes, 'local.maxBytes') ?? local.maxBytes,
      ttl: positive(options.local.ttl, 'local.ttl'),
    }
  }
  const models: Record<string, ModelPolicy | false> = {}
  if (options.models !== undefined) {
    if (!isObject(options.models)) fail('models', 'must be an object.')
    for (const [name, policy] of Object.entries(options.models)) {
      models[name] = validateModelPolicy(policy, `models.${name}`)
    }
  }
  for (const hook of ['onError', 'onHit', 'onMiss', 'onInvalidate'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') fail(hook, 'must be a function.')
  }
  const { schema } = options
  if (schema !== undefined && (typeof schema !== 'object' || schema === null || schema.version !== 1)) {
    fail('schema', 'must be the `schema` exported by the module prisma-strata-generator emits (version 1).')
  }
  let lease: ResolvedOptions['lease'] = false
  if (options.lease === true) lease = { timeout: 5000, wait: 250 }
  else if (options.lease !== undefined && options.lease !== false) {
    if (!isObject(options.lease)) fail('lease', 'must be a boolean or an object.')
    checkKeys(options.lease, ['timeout', 'wait'], 'lease.')
    lease = {
      timeout: positive(options.lease.timeout, 'lease.timeout') ?? 5000,
      wait: positive(options.lease.wait, 'lease.wait') ?? 250,
    }
    if (lease.wait > lease.timeout) {
      fail(
        'lease.wait',
        `must not exceed \`lease.timeout\` (${lease.timeout} ms), got ${lease.wait}: a reader would wait on past the lease of a holder that died.`,
      )
    }
  }
  if (options.context !== undefined && typeof options.context !== 'function') {
    fail('context', 'must be a function returning the current partition, e.g. () => store.getStore()?.tenantId.')
  }
  return {
    redis,
    prefix,
    ttl: positive(options.ttl, 'ttl') ?? 60,
    negativeTtl: positive(options.negativeTtl, 'negativeTtl') ?? 5,
    jitter,
    swr: nonNegative(options.swr, 'swr') ?? 0,
    grace: nonNegative(options.grace, 'grace') ?? 0,
    lease,
    local,
    models,
    invalidation: invalidation(options.invalidation, 'invalidation') ?? 'precise',
    schema,
    redisTimeout: positive(options.redisTimeout, 'redisTimeout') ?? 200,
    heartbeat: positive(options.heartbeat, 'heartbeat') ?? 2000,
    staleness: staleness(options.staleness),
    maxEntryBytes: positive(options.maxEntryBytes, 'maxEntryBytes') ?? 1024 * 1024,
    context: options.context,
    onError: options.onError,
    onHit: options.onHit,
    onMiss: options.onMiss,
    onInvalidate: options.onInvalidate,
    changes: changes(options.changes, redis),
  }
}

/** Checks a per-query `cache` argument; a bad one is a programming error, thrown like Prisma's own argument errors. */
export function validateQueryCache(value: unknown): QueryCacheArg | undefined {
  if (value === undefined || value === false) return value
  if (!isObject(value)) {
    fail('cache (query argument)', 'must be `false` or an object.')
  }
  checkKeys(value, ['ttl', 'swr', 'tags', 'key'], 'cache.')
  const q = value as QueryCacheOptions
  positive(q.ttl, 'cache.ttl')
  nonNegative(q.swr, 'cache.swr')
  if (q.tags !== undefined && !(Array.isArray(q.tags) && q.tags.every((t) => typeof t === 'string' && t !== ''))) {
    fail('cache.tags', 'must be an array of non-empty strings.')
  }
  if (q.key !== undefined && (typeof q.key !== 'string' || q.key === ''))
    fail('cache.key', 'must be a non-empty string.')
  return q
}
