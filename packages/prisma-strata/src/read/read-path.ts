/**
 * Cache-aside reads through both tiers. The order matters:
 * 1. local entry whose versions are all current → answer (no I/O, no allocation beyond the decoded copy);
 * 2. otherwise snapshot the versions of every dependency *before* any SQL is sent;
 * 3. Redis entry that answers this very query under that snapshot → answer, and keep it locally;
 * 4. otherwise one database query per key and snapshot (single flight), stored under the snapshot.
 * A fill made under a snapshot that a write has since bumped can never match again (DESIGN invariant 2).
 */
import type { Engine } from '../engine'
import { EntryTooLargeError } from '../errors'
import type { QueryCacheOptions } from '../options'
import type { EffectivePolicy } from '../policy/policy'
import { decodeEntry, decodeValue, encodeEntry, encodeValue } from '../store/codec'
import { copyResult } from '../store/copy'
import { tagVersionName } from '../store/keys'
import type { LocalEntry } from '../store/local-tier'
import { FAILED } from '../store/redis-tier'
import { canonical } from './canonical'
import { readDependencies } from './dependencies'
import { isNotFoundError, notFoundError } from './not-found'

export type Args = Record<string, unknown>

/** One read, as the extension intercepted it. */
export interface ReadCall {
  model: string
  /** The method called: `findUniqueOrThrow` and `findUnique` share entries, only the answer differs. */
  operation: string
  /** Prisma arguments, without `cache`. */
  args: Args | undefined
  query: QueryCacheOptions | undefined
  /** The `context` partition the read was made in, when the cache is partitioned. */
  partition: string | undefined
  policy: EffectivePolicy
  /** Sends the query to Prisma (the database). */
  execute(): PromiseLike<unknown>
}

/** What one database query produced, shared by every caller waiting on it. */
export interface Outcome {
  value: unknown
  /** A copy no caller holds, for followers to copy from; absent if the result could not be cached. */
  master: unknown
  cached: boolean
  /** Prisma's own not-found error, when the leader called an `*OrThrow` method. */
  notFound?: unknown
  /** Answered by a Redis entry rather than the database. */
  fromRedis?: boolean
}

const orThrow = (operation: string) => operation.endsWith('OrThrow')

function sharedOperation(operation: string): string {
  return orThrow(operation) ? operation.slice(0, -'OrThrow'.length) : operation
}

/** The canonical text of a read: the local key, and what a Redis entry must store to answer it. */
export function queryText(call: Pick<ReadCall, 'model' | 'operation' | 'args' | 'query' | 'partition'>): string {
  const scope = call.partition === undefined ? '' : `${JSON.stringify(call.partition)}|`
  if (call.query?.key !== undefined) return `${scope}${call.model}|key|${JSON.stringify(call.query.key)}`
  return `${scope}${call.model}|${sharedOperation(call.operation)}|${canonical(call.args)}`
}

function answer(call: ReadCall, value: unknown, notFound?: unknown): unknown {
  if (value === null && orThrow(call.operation)) throw notFound ?? notFoundError(call.model, call.operation)
  return value
}

function sameVersions(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function cachedRead(engine: Engine, call: ReadCall): Promise<unknown> {
  const text = queryText(call)
  const local = engine.local?.get(text)
  if (local !== undefined && engine.versions.matches(local.deps, local.versions)) {
    engine.stats.model(call.model).localHits++
    try {
      return Promise.resolve(answer(call, copyResult(local.value)))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  return slowRead(engine, call, text, local)
}

async function slowRead(engine: Engine, call: ReadCall, text: string, seen: LocalEntry | undefined): Promise<unknown> {
  const counters = engine.stats.model(call.model)
  const deps = seen?.deps ?? dependencyNames(engine, call)
  const versions = await engine.versions.snapshot(deps)
  if (versions === undefined) {
    counters.bypasses++
    return call.execute()
  }
  // Looked up again: an identical read may have filled it while this one was waiting for the snapshot.
  const local = engine.local?.get(text)
  if (local !== undefined && sameVersions(local.versions, versions)) {
    counters.localHits++
    return answer(call, copyResult(local.value))
  }
  const flightKey = `${text}@${versions.join(',')}`
  const waiting = engine.inflight.get(flightKey)
  if (waiting) {
    // Same query, same snapshot, already on its way to Redis or the database: share its answer.
    const outcome = await waiting
    counters.coalesced++
    const value = outcome.cached ? copyResult(outcome.master) : await call.execute()
    return answer(call, value)
  }
  const flight = lookupOrLoad(engine, call, text, deps, versions)
  engine.inflight.set(flightKey, flight)
  try {
    const outcome = await flight
    if (outcome.fromRedis) counters.redisHits++
    else counters.misses++
    return answer(call, outcome.value, outcome.notFound)
  } finally {
    engine.inflight.delete(flightKey)
  }
}

async function lookupOrLoad(
  engine: Engine,
  call: ReadCall,
  text: string,
  deps: string[],
  versions: number[],
): Promise<Outcome> {
  const redisKey = engine.redis ? engine.keys.entry(call.model, text) : undefined
  if (redisKey) {
    const found = await redisLookup(engine, redisKey, text, deps, versions)
    if (found) return { value: copyResult(found.master), master: found.master, cached: true, fromRedis: true }
  }
  return load(engine, call, text, deps, versions, redisKey)
}

function dependencyNames(engine: Engine, call: ReadCall): string[] {
  const models = readDependencies(engine.graph, call.model, call.args)
  const names = models.map((m) => engine.modelVersionName(m))
  if (call.query?.tags) for (const tag of call.query.tags) names.push(tagVersionName(tag))
  return names.sort()
}

/** The decoded value of a Redis entry that answers `text` under `versions` (kept locally too), or undefined. */
async function redisLookup(
  engine: Engine,
  key: string,
  text: string,
  deps: string[],
  versions: number[],
): Promise<{ master: unknown } | undefined> {
  const frame = await engine.redis?.get(key)
  if (!frame || frame === FAILED) return undefined
  if (frame.length > engine.maxEntryBytes + 1024) {
    engine.report(new EntryTooLargeError(frame.length, engine.maxEntryBytes))
    return undefined
  }
  let entry: ReturnType<typeof decodeEntry>
  try {
    entry = decodeEntry(frame)
  } catch (error) {
    engine.report(error as never)
    return undefined
  }
  // Another query under a colliding hash, or an entry filled under other versions: not an answer.
  if (entry.query !== text || !sameVersions(entry.versions, versions)) return undefined
  let master: unknown
  try {
    master = decodeValue(entry.value)
  } catch (error) {
    engine.reportCodec('an entry could not be decoded', error)
    return undefined
  }
  const remaining = entry.expiresAt - Date.now()
  engine.local?.set(text, { value: master, encodedBytes: entry.value.byteLength, deps, versions }, remaining)
  return { master }
}

async function load(
  engine: Engine,
  call: ReadCall,
  text: string,
  deps: string[],
  versions: number[],
  redisKey: string | undefined,
): Promise<Outcome> {
  let value: unknown
  let notFound: unknown
  try {
    value = await call.execute()
  } catch (error) {
    if (!orThrow(call.operation) || !isNotFoundError(error)) throw error
    value = null
    notFound = error
  }
  let bytes: Uint8Array | undefined
  try {
    bytes = encodeValue(value)
  } catch (error) {
    engine.reportCodec('a result could not be encoded; it was not cached', error)
    return { value, master: undefined, cached: false, notFound }
  }
  if (bytes.byteLength > engine.maxEntryBytes) {
    engine.report(new EntryTooLargeError(bytes.byteLength, engine.maxEntryBytes))
    return { value, master: undefined, cached: false, notFound }
  }
  const ttl = engine.policies.ttlMs(call.policy, call.query, value === null)
  // The caller gets Prisma's object and may mutate it: the local tier and followers get an independent copy.
  const master = copyResult(value)
  engine.local?.set(text, { value: master, encodedBytes: bytes.byteLength, deps, versions }, ttl)
  engine.stats.fills++
  if (engine.redis && redisKey) {
    const frame = encodeEntry({ query: text, deps, versions, expiresAt: Date.now() + ttl, value: bytes })
    void engine.redis.set(redisKey, frame, ttl)
  }
  return { value, master, cached: true, notFound }
}
