/**
 * Query entries: one per canonical query text, depending on the versions of every model the query reads (and its
 * tags). In Redis an entry carries its query text and the versions it was filled under; it answers a read only
 * if the text is the read's and the versions are the read's snapshot (or newer ones Redis confirms).
 */
import type { Engine } from '../engine'
import { encodeEntry, encodeValue } from '../store/codec'
import { tagVersionNames } from '../store/keys'
import type { LocalEntry } from '../store/local-tier'
import { FAILED } from '../store/redis-tier'
import type { Budget } from '../store/turn-batch'
import { copyResult } from './copy-result'
import { readDependencies } from './dependencies'
import { readEntry } from './entry-frame'
import type { EntryKind, Found, Snapshot } from './entry-kind'
import { answer, queryText, type ReadCall, sameVersions } from './read-call'
import { fitsOperation } from './result-shape'
import { tieredRead } from './tiered-read'

/** A read served from a query entry. */
export function cachedRead(engine: Engine, call: ReadCall): Promise<unknown> {
  return tieredRead(engine, new QueryEntry(engine, call))
}

interface Versions extends Snapshot {
  versions: number[]
}

class QueryEntry implements EntryKind<Versions> {
  readonly text: string
  private names: readonly string[] | undefined
  private key: string | undefined

  constructor(
    private readonly engine: Engine,
    readonly call: ReadCall,
  ) {
    this.text = queryText(call, engine.omitScope)
  }

  get flightKey(): string {
    return this.text
  }

  deps(seen?: LocalEntry): readonly string[] {
    this.names ??= seen?.deps ?? this.call.deps ?? dependencyNames(this.engine, this.call)
    return this.names
  }

  answers(): boolean {
    return true
  }

  async snapshot(budget: Budget, seen?: LocalEntry): Promise<Versions | undefined> {
    const versions = await this.engine.versions.snapshot(this.deps(seen), budget)
    return versions && { versions, stamp: versions.join(',') }
  }

  isCurrent(entry: LocalEntry, snapshot: Versions): boolean {
    return sameVersions(entry.versions, snapshot.versions)
  }

  private get redisKey(): string {
    this.key ??= this.engine.keys.entry(this.call.model, this.text)
    return this.key
  }

  async lookup(snapshot: Versions, deadline: number): Promise<Found | undefined> {
    const { engine, call, text } = this
    const frame = await engine.redis?.get(this.redisKey, deadline)
    if (!frame || frame === FAILED) return undefined
    const deps = this.deps()
    const { versions } = snapshot
    // Another query under a colliding hash, or an entry filled under older versions: not an answer.
    const read = readEntry(
      engine,
      frame,
      (entry) => entry.query === text && notOlder(entry.deps, entry.versions, deps, versions),
      (value) => fitsOperation(call.operation, value),
    )
    if (!read) return undefined
    const { entry, value } = read
    // Filled under newer versions than this read knows: another instance saw a write whose bus message has not
    // reached us yet, or the entry was filled under a bad value. Only if Redis holds those versions does it answer.
    if (!sameVersions(entry.versions, versions) && !(await engine.versions.confirm(deps, entry.versions, deadline))) {
      return undefined
    }
    // The dependency list is never changed once made: entries of one query share it.
    const shared = deps as string[]
    engine.local?.set(
      text,
      { value, encodedBytes: entry.value.byteLength, deps: shared, versions: entry.versions },
      entry,
    )
    return { value, times: entry }
  }

  probe(snapshot: Versions, deadline: number): Promise<Found | undefined> {
    return this.lookup(snapshot, deadline)
  }

  query(): PromiseLike<unknown> {
    return this.call.execute()
  }

  store(snapshot: Versions, value: unknown, lease: string | undefined): unknown {
    const { engine, call, text } = this
    const release = () => {
      if (lease) engine.inBackground(engine.leases?.release(text, lease) ?? Promise.resolve())
    }
    let bytes: Uint8Array
    try {
      bytes = encodeValue(value)
    } catch (error) {
      engine.reporter.codec('a result could not be encoded; it was not cached', error)
      release()
      return undefined
    }
    if (bytes.byteLength > engine.maxEntryBytes) {
      engine.reporter.tooLarge(bytes.byteLength)
      release()
      return undefined
    }
    const deps = this.deps() as string[]
    const { versions } = snapshot
    const times = engine.policies.times(call.policy, call.query, value)
    // The caller gets Prisma's object and may mutate it: the local tier and followers get an independent copy.
    const master = copyResult(value)
    engine.local?.set(text, { value: master, encodedBytes: bytes.byteLength, deps, versions }, times)
    const redis = engine.redis
    if (!redis) return master
    const frame = encodeEntry({ query: text, deps, versions, ...times, value: bytes })
    // The frame carries the query text too: one no instance could read back is not worth writing.
    if (frame.length > engine.maxEntryBytes + 1024) {
      engine.reporter.tooLarge(frame.length)
      release()
      return master
    }
    const ttl = times.expiresAt - Date.now()
    const leases = engine.leases
    if (lease && leases) {
      engine.inBackground(
        (async () => {
          if (await leases.allowsFill(text, lease, deps, versions)) await redis.set(this.redisKey, frame, ttl)
          await leases.release(text, lease)
        })(),
      )
    } else engine.inBackground(redis.set(this.redisKey, frame, ttl))
    return master
  }

  answer(value: unknown, owned: boolean, notFound?: unknown): unknown {
    return answer(this.call, owned ? value : copyResult(value), notFound)
  }
}

/** Same dependencies, and every version at least the one this read snapshotted. */
function notOlder(entryDeps: string[], entryVersions: number[], deps: readonly string[], versions: number[]): boolean {
  if (entryDeps.length !== deps.length) return false
  for (let i = 0; i < deps.length; i++) {
    if (entryDeps[i] !== deps[i] || (entryVersions[i] as number) < (versions[i] as number)) return false
  }
  return true
}

function dependencyNames(engine: Engine, call: ReadCall): string[] {
  const models = engine.policies.withSources(readDependencies(engine.graph, call.model, call.args))
  const names = models.map((m) => engine.modelVersionName(m))
  if (call.query?.tags) names.push(...tagVersionNames(call.query.tags))
  return names.sort()
}
