/**
 * Cache-aside reads through both tiers. The order matters:
 * 1. a local entry whose versions are all current answers (no I/O; a deep copy of the kept result);
 * 2. otherwise the versions of every dependency are snapshotted *before* any SQL is sent;
 * 3. a Redis entry that answers this very query under that snapshot answers, and is kept locally;
 * 4. otherwise one database query per query text (single flight, see flights.ts; with leases, one per cluster)
 *    fills both tiers under the snapshot. When Redis gives no snapshot, identical reads still share one query,
 *    and nothing is stored.
 * A fill made under a snapshot that a write has since bumped can never match again.
 * Past its TTL, a version-current entry is still served within `swr` (while one refresh runs) and, when the
 * database fails, within `grace`. An entry a write made stale is never served.
 */
import type { Engine } from '../engine'
import { CodecError } from '../errors'
import { decodeEntry, decodeValue, type StoredEntry } from '../store/codec'
import { copyResult } from '../store/copy'
import { tagVersionNames } from '../store/keys'
import { HELD_ELSEWHERE } from '../store/leases'
import type { LocalEntry } from '../store/local-tier'
import { FAILED } from '../store/redis-tier'
import { readDependencies } from './dependencies'
import { type FillTarget, load, loadUncached } from './fill'
import {
  answer,
  EXPIRED,
  FRESH,
  freshness,
  type Outcome,
  queryText,
  type ReadCall,
  STALE,
  sameVersions,
} from './read-call'
import { refreshInBackground } from './refresh'
import { fitsOperation } from './result-shape'

export type { Args, Outcome, ReadCall } from './read-call'

export function cachedRead(engine: Engine, call: ReadCall): Promise<unknown> {
  const text = queryText(call, engine.omitScope)
  const local = engine.local?.get(text)
  if (local !== undefined && engine.versions.matches(local.deps, local.versions)) {
    const age = freshness(local.times)
    if (age !== EXPIRED) {
      const counters = engine.stats.of(call.model, call.operation)
      counters.localHits++
      if (age === STALE) {
        counters.stale++
        refreshInBackground(engine, call, text, local.deps)
      }
      if (engine.hooks.onHit) hit(engine, call, 'local', age === STALE)
      try {
        return Promise.resolve(answer(call, copyResult(local.value)))
      } catch (error) {
        return Promise.reject(error)
      }
    }
  }
  return slowRead(engine, call, text, local)
}

async function slowRead(engine: Engine, call: ReadCall, text: string, seen: LocalEntry | undefined): Promise<unknown> {
  const started = performance.now()
  // One Redis budget for the whole read, however many commands it takes.
  const budget = { deadline: started + (engine.redis?.timeoutMs ?? 0) }
  const counters = engine.stats.of(call.model, call.operation)
  const deps = seen?.deps ?? call.deps ?? dependencyNames(engine, call)
  const versions = await engine.versions.snapshot(deps, budget)
  let grace: unknown
  // Looked up again: an identical read may have filled it while this one was waiting for the snapshot.
  const local = versions && engine.local?.get(text)
  if (versions !== undefined && local !== undefined && sameVersions(local.versions, versions)) {
    const age = freshness(local.times)
    if (age !== EXPIRED) {
      counters.localHits++
      if (age === STALE) {
        counters.stale++
        refreshInBackground(engine, call, text, deps)
      }
      if (engine.hooks.onHit) hit(engine, call, 'local', age === STALE)
      return answer(call, copyResult(local.value))
    }
    grace = local.value
  }
  const stamp = versions?.join(',')
  const waiting = engine.flights.join(text, deps, stamp, started)
  if (waiting) {
    // The same query already on its way to Redis or the database.
    const outcome = await waiting
    counters.coalesced++
    return answer(call, copyResult(outcome.master))
  }
  // Without a snapshot (Redis failed or is skipped) the read still shares its query, but stores nothing.
  const flight =
    versions === undefined
      ? loadUncached(engine, call)
      : lookupOrLoad(
          engine,
          call,
          { text, deps, versions, redisKey: engine.redis && engine.keys.entry(call.model, text), grace },
          budget.deadline,
        )
  const outcome = await engine.flights.start(text, stamp, flight)
  if (outcome.fromRedis) {
    counters.redisHits++
    if (engine.hooks.onHit) hit(engine, call, 'redis', outcome.stale === true, performance.now() - started)
  } else counters.misses++
  return answer(call, outcome.value, outcome.notFound)
}

async function lookupOrLoad(engine: Engine, call: ReadCall, target: FillTarget, deadline: number): Promise<Outcome> {
  const { text, deps, versions, redisKey } = target
  if (!redisKey) return load(engine, call, target)
  const found = await redisLookup(engine, call.operation, redisKey, text, deps, versions, deadline)
  if (found) {
    const age = freshness(found.times)
    if (age !== EXPIRED) {
      if (age === STALE) {
        engine.stats.of(call.model, call.operation).stale++
        refreshInBackground(engine, call, text, deps)
      }
      const stale = age === STALE
      return { value: copyResult(found.master), master: found.master, cached: true, fromRedis: true, stale }
    }
    target.grace ??= found.master
  }
  if (engine.leases) {
    const lease = await engine.leases.acquire(text, deadline)
    if (typeof lease === 'string') {
      // The previous holder may have stored its fill and released between our lookup and our lease: look again.
      const filled = await redisLookup(engine, call.operation, redisKey, text, deps, versions, deadline)
      if (filled && freshness(filled.times) === FRESH) {
        void engine.leases.release(text, lease)
        return { value: copyResult(filled.master), master: filled.master, cached: true, fromRedis: true }
      }
      return load(engine, call, { ...target, lease })
    }
    if (lease === HELD_ELSEWHERE) {
      // Another instance is filling this entry: wait a little for it rather than query the database too.
      // (A `null` result is a fill too: "no such row" was cached.)
      const filled = await engine.leases.waitFor(async (until) => {
        const entry = await redisLookup(engine, call.operation, redisKey, text, deps, versions, until)
        return entry && freshness(entry.times) === FRESH ? entry : undefined
      })
      if (filled) return { value: copyResult(filled.master), master: filled.master, cached: true, fromRedis: true }
    }
  }
  return load(engine, call, target)
}

/** Same dependencies, and every version at least the one this read snapshotted. */
function notOlder(entryDeps: string[], entryVersions: number[], deps: string[], versions: number[]): boolean {
  if (entryDeps.length !== deps.length) return false
  for (let i = 0; i < deps.length; i++) {
    if (entryDeps[i] !== deps[i] || (entryVersions[i] as number) < (versions[i] as number)) return false
  }
  return true
}

export function hit(
  engine: Engine,
  call: ReadCall,
  tier: 'local' | 'redis',
  stale: boolean,
  durationMs?: number,
): void {
  const onHit = engine.hooks.onHit
  const event = { model: call.model, operation: call.operation, tier, stale }
  if (onHit) engine.hook(onHit, durationMs === undefined ? event : { ...event, durationMs })
}

function dependencyNames(engine: Engine, call: ReadCall): string[] {
  const models = engine.policies.withSources(readDependencies(engine.graph, call.model, call.args))
  const names = models.map((m) => engine.modelVersionName(m))
  if (call.query?.tags) names.push(...tagVersionNames(call.query.tags))
  return names.sort()
}

/**
 * The decoded value of a Redis entry that answers `text` under `versions` (kept locally too), or undefined.
 * Exported for the background refresh.
 */
export async function redisLookup(
  engine: Engine,
  operation: string,
  key: string,
  text: string,
  deps: string[],
  versions: number[],
  deadline?: number,
): Promise<{ master: unknown; times: { freshUntil: number; staleUntil: number } } | undefined> {
  const frame = await engine.redis?.get(key, deadline)
  if (!frame || frame === FAILED) return undefined
  // Another query under a colliding hash, or an entry filled under older versions: not an answer.
  const read = readEntry(
    engine,
    frame,
    (entry) => entry.query === text && notOlder(entry.deps, entry.versions, deps, versions),
    (value) => fitsOperation(operation, value),
  )
  if (!read) return undefined
  const { entry, value: master } = read
  // Filled under newer versions than this read knows: another instance saw a write whose bus message has not
  // reached us yet, or the entry was filled under a bad value. Only if Redis holds those versions does it answer.
  if (!sameVersions(entry.versions, versions) && !(await engine.versions.confirm(deps, entry.versions, deadline))) {
    return undefined
  }
  engine.local?.set(
    text,
    { value: master, encodedBytes: entry.value.byteLength, deps, versions: entry.versions },
    entry,
  )
  return { master, times: entry }
}

/**
 * The entry of a frame read from Redis and its decoded value, if it is one of ours, within `maxEntryBytes`,
 * `accept`ed, and a value that `fits` the read; anything unreadable is reported (never thrown) and reads as a miss.
 */
export function readEntry(
  engine: Engine,
  frame: Buffer,
  accept: (entry: StoredEntry) => boolean,
  fits: (value: unknown) => boolean,
): { entry: StoredEntry; value: unknown } | undefined {
  if (frame.length > engine.maxEntryBytes + 1024) {
    engine.reportTooLarge(frame.length)
    return undefined
  }
  try {
    const entry = decodeEntry(frame)
    if (!accept(entry)) return undefined
    const value = decodeValue(entry.value)
    if (!fits(value)) throw new CodecError('an entry holds a value of another shape than its read returns')
    return { entry, value }
  } catch (error) {
    engine.reportCodec('an entry under one of our keys could not be read', error)
    return undefined
  }
}
