/**
 * The database side of a miss: run the query, then store the result under the versions snapshotted before it
 * was sent, in both tiers. With a lease, the Redis entry is stored only if the lease is still ours and no write
 * has bumped a version meanwhile. If the database fails and a version-current entry is still within `grace`,
 * that entry answers instead.
 */
import type { Engine } from '../engine'
import { EntryTooLargeError } from '../errors'
import { encodeEntry, encodeValue } from '../store/codec'
import { copyResult } from '../store/copy'
import { isNotFoundError } from './not-found'
import { type Outcome, orThrow, type ReadCall } from './read-call'

export interface FillTarget {
  text: string
  deps: string[]
  versions: number[]
  /** The Redis key of the entry, when there is a Redis tier. */
  redisKey: string | undefined
  /** The lease token, when this fill holds one. */
  lease?: string
  /** A version-current entry past its `swr` but within `grace`: the answer if the database fails. */
  grace?: unknown
}

export async function load(engine: Engine, call: ReadCall, target: FillTarget): Promise<Outcome> {
  let result: { value: unknown; notFound?: unknown }
  try {
    result = await query(engine, call)
  } catch (error) {
    if (target.lease) void engine.leases?.release(target.text, target.lease)
    if (target.grace === undefined) throw error
    engine.stats.of(call.model, call.operation).stale++
    return { value: copyResult(target.grace), master: target.grace, cached: true, stale: true }
  }
  const { value, notFound } = result
  const master = store(engine, call, target, value)
  // Followers of the flight share the answer even when it could not be cached.
  return { value, master: master === undefined ? copyResult(value) : master, cached: master !== undefined, notFound }
}

/**
 * A miss Redis gave no versions for: the database answers, and nothing is stored, for there is no snapshot taken
 * before the SQL to store it under.
 */
export async function loadUncached(engine: Engine, call: ReadCall): Promise<Outcome> {
  const { value, notFound } = await query(engine, call)
  return { value, master: copyResult(value), cached: false, notFound }
}

/** Runs the read in the database; "no such row" of an `*OrThrow` read is a `null` result with Prisma's error. */
async function query(engine: Engine, call: ReadCall): Promise<{ value: unknown; notFound?: unknown }> {
  const started = performance.now()
  try {
    const value = await call.execute()
    const onMiss = engine.hooks.onMiss
    if (onMiss) {
      engine.hook(onMiss, { model: call.model, operation: call.operation, durationMs: performance.now() - started })
    }
    return { value }
  } catch (error) {
    if (orThrow(call.operation) && isNotFoundError(error)) return { value: null, notFound: error }
    throw error
  }
}

/** Stores `value` in both tiers; returns the master copy kept, or undefined when it could not be cached. */
function store(engine: Engine, call: ReadCall, target: FillTarget, value: unknown): unknown {
  let bytes: Uint8Array
  try {
    bytes = encodeValue(value)
  } catch (error) {
    engine.reportCodec('a result could not be encoded; it was not cached', error)
    return undefined
  }
  if (bytes.byteLength > engine.maxEntryBytes) {
    engine.report(new EntryTooLargeError(bytes.byteLength, engine.maxEntryBytes))
    return undefined
  }
  const { text, deps, versions, redisKey, lease } = target
  const times = engine.policies.times(call.policy, call.query, value === null)
  // The caller gets Prisma's object and may mutate it: the local tier and followers get an independent copy.
  const master = copyResult(value)
  engine.local?.set(text, { value: master, encodedBytes: bytes.byteLength, deps, versions }, times)
  engine.stats.fills++
  if (engine.redis && redisKey) {
    const frame = encodeEntry({ query: text, deps, versions, ...times, value: bytes })
    // The frame carries the query text too: one no instance could read back is not worth writing.
    if (frame.length > engine.maxEntryBytes + 1024) {
      engine.report(new EntryTooLargeError(frame.length, engine.maxEntryBytes))
      return master
    }
    const ttl = times.expiresAt - Date.now()
    if (lease && engine.leases) {
      const leases = engine.leases
      engine.inBackground(
        (async () => {
          if (await leases.allowsFill(text, lease, deps, versions)) await engine.redis?.set(redisKey, frame, ttl)
          await leases.release(text, lease)
        })(),
      )
    } else engine.inBackground(engine.redis.set(redisKey, frame, ttl))
  }
  return master
}
