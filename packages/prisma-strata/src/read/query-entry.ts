/**
 * Query entries: one per canonical query text, depending on the versions of every model the query reads (and its
 * tags). In Redis an entry carries its query text and the versions it was filled under; it answers a read only
 * if the text is the read's and the versions are the read's snapshot (or newer ones Redis confirms).
 */
import type { Engine } from '../engine'
import type { EntryTimes } from '../policy/policy'
import { sameList } from '../same-list'
import { decodeValue, encodeEntry, encodeValue, type StoredEntry } from '../store/codec'
import { registryVersionName } from '../store/keys'
import type { LocalEntry } from '../store/local-tier'
import { FAILED } from '../store/redis-tier'
import type { Budget } from '../store/turn-batch'
import { copyResult } from './copy-result'
import { readEntry } from './entry-frame'
import type { EntryKind, Found, Snapshot, Stored } from './entry-kind'
import { type Dependencies, type FineList, fineNames, memoised } from './query-dependencies'
import { answer, queryText, type ReadCall } from './read-call'
import { fitsOperation } from './result-shape'
import { tieredRead } from './tiered-read'

/** A read served from a query entry. */
export function cachedRead(engine: Engine, call: ReadCall): Promise<unknown> {
  return tieredRead(engine, new QueryEntry(engine, call))
}

interface Versions extends Snapshot {
  versions: number[]
  /** The entry's frame, when the call that read the versions brought it (null: none); else the lookup reads it. */
  frame?: Buffer | null
}

class QueryEntry implements EntryKind<Versions> {
  readonly text: string
  private names: readonly string[] | undefined
  /** Set for a read that lists rows by key (`ListedRows`): what its fine entries depend on besides their rows. */
  private fine: FineList | undefined
  /** The predicate schemes the read names (`[model, scheme]`): registered before its snapshot is used. */
  private schemes: ReadonlyArray<readonly [string, string]> = []
  private key: string | undefined
  /** Whether the fill `store` was given was kept (it is stored after the answer: pending-fills.ts). */
  filled = false

  constructor(
    private readonly engine: Engine,
    readonly call: ReadCall,
  ) {
    this.text = queryText(call, engine.omitScope)
  }

  get flightKey(): string {
    return this.text
  }

  deps(): readonly string[] {
    if (this.names === undefined) {
      const given = this.call.deps
      const found: Dependencies = given ? { names: given, schemes: [] } : memoised(this.engine, this.call, this.text)
      this.names = found.names
      this.schemes = found.schemes
      this.fine = found.fine
    }
    return this.names
  }

  answers(): boolean {
    return true
  }

  snapshot(budget: Budget): Versions | undefined | Promise<Versions | undefined> {
    const deps = this.deps() // also sets `this.schemes`
    const { engine, schemes } = this
    const known = engine.versions.peek(deps)
    if (!engine.redis) {
      if (schemes.length > 0) engine.schemes.registerLocally(schemes)
      return known && { versions: known, stamp: known }
    }
    // A predicate is bumped by writes only once its scheme is in the registry: unless this process registered it
    // under the registry version it knows, the snapshot registers it first, in the same script call.
    if (known && this.registered(known)) return { versions: known, stamp: known }
    // Where the call goes to Redis, the entry is read in it too: a miss costs Redis one command before its SQL.
    return engine.versions
      .snapshotWith(deps, this.redisKey, budget, schemes)
      .then((read) => read && { versions: read.versions, frame: read.frame, stamp: read.versions })
  }

  /** Whether this process registered every scheme the read names, under the registry versions of `versions`. */
  private registered(versions: number[]): boolean {
    const deps = this.deps()
    for (const [model, scheme] of this.schemes) {
      const at = deps.indexOf(registryVersionName(model))
      if (!this.engine.schemes.isRegistered(model, scheme, versions[at])) return false
    }
    return true
  }

  isCurrent(entry: LocalEntry, snapshot: Versions): boolean {
    if (sameList(entry.deps, this.deps())) return sameList(entry.versions, snapshot.versions)
    // A fine list entry: current while every name it holds has the version it was filled under.
    return this.fine !== undefined && this.engine.versions.matches(entry.deps, entry.versions)
  }

  private get redisKey(): string {
    this.key ??= this.engine.keys.entry(this.call.model, this.text)
    return this.key
  }

  lookup(snapshot: Versions, deadline: number): Promise<Found | undefined> {
    // Whatever needs no further round trip is answered within the reply's own callback (no async layer per step).
    if (snapshot.frame !== undefined) return Promise.resolve(this.found(snapshot.frame, snapshot, deadline))
    const redis = this.engine.redis
    if (!redis) return Promise.resolve(undefined)
    return redis.get(this.redisKey, deadline).then((frame) => this.found(frame, snapshot, deadline))
  }

  private found(
    frame: Buffer | null | typeof FAILED,
    snapshot: Versions,
    deadline: number,
  ): Found | undefined | Promise<Found | undefined> {
    return frame && frame !== FAILED ? this.fromFrame(frame, snapshot, deadline) : undefined
  }

  /** The entry of a frame, if it stores this query under the snapshot's versions or newer ones Redis holds. */
  private fromFrame(
    frame: Buffer,
    snapshot: Versions,
    deadline: number,
  ): Found | undefined | Promise<Found | undefined> {
    const { engine, call, text } = this
    const deps = this.deps()
    const { versions } = snapshot
    // Another query under a colliding hash, or an entry filled under older versions: not an answer. A fine list
    // entry holds other names than the read's (checked against its rows below).
    let fine = false
    const accept = (entry: StoredEntry) => {
      if (entry.query !== text) return false
      if (notOlder(entry.deps, entry.versions, deps, versions)) return true
      fine = this.fine !== undefined && !sameList(entry.deps, deps)
      return fine
    }
    const fits = (value: unknown) => fitsOperation(call.operation, value)
    const read = readEntry(engine, frame, accept, fits, { query: text, deps })
    if (!read) return undefined
    const { entry, value } = read
    // Without a local tier no one else holds `value`: reads that share the flight decode their own, from a copy
    // taken now (the frame's bytes are the connection's, not to be read after an await).
    const again = engine.local ? undefined : decoderOf(entry.value)
    if (fine) return this.fineFound(entry, value, again, deadline)
    if (sameList(entry.versions, versions)) return this.kept(entry, value, again)
    // Filled under newer versions than this read knows: another instance saw a write whose bus message has not
    // reached us yet, or the entry was filled under a bad value. Only if Redis holds those versions does it answer.
    return engine.versions
      .confirm(deps, entry.versions, deadline)
      .then((confirmed) => (confirmed ? this.kept(entry, value, again) : undefined))
  }

  /** A Redis entry that answers the read: kept locally too. */
  private kept(entry: StoredEntry, value: unknown, again: Found['again']): Found {
    // The dependency list is never changed once made: entries of one query share it.
    return this.keep(entry, value, this.deps() as string[], again)
  }

  /** Keeps a Redis entry locally under `deps` and the versions it was filled under. */
  private keep(entry: StoredEntry, value: unknown, deps: string[], again: Found['again']): Found {
    this.engine.local?.set(this.text, { value, deps, versions: entry.versions }, entry)
    return { value, times: entry, again }
  }

  /**
   * A fine list entry from Redis: it answers if it holds exactly the names its rows give this read, each at the
   * version this process knows or, for those it does not, at the one Redis holds now.
   */
  private async fineFound(
    entry: StoredEntry,
    value: unknown,
    again: Found['again'],
    deadline: number,
  ): Promise<Found | undefined> {
    const { engine } = this
    const fine = this.fine as FineList
    const names = fineNames(fine, value)
    if (!names || !sameList(names, entry.deps)) return undefined
    if (
      !engine.versions.matches(names, entry.versions) &&
      !(await engine.versions.confirm(names, entry.versions, deadline))
    ) {
      return undefined
    }
    return this.keep(entry, value, names, again)
  }

  detached(): QueryEntry {
    return this.call.detached ? new QueryEntry(this.engine, this.call.detached()) : this
  }

  overtaken(snapshot: Versions): boolean {
    // Only a Prisma read is refilled without a caller (tiered-read's refill): a `$cache.wrap` loader is the app's
    // own function, and has no arguments to detach.
    return this.call.detached !== undefined && this.engine.versions.movedOn(this.deps(), snapshot.versions)
  }

  /** Reads the entry again: a frame the snapshot brought predates the fill being waited for. */
  probe(snapshot: Versions, deadline: number): Promise<Found | undefined> {
    return this.lookup({ ...snapshot, frame: undefined }, deadline)
  }

  query(): PromiseLike<unknown> {
    return this.call.execute()
  }

  store(snapshot: Versions, value: unknown, lease: string | undefined): Stored {
    const { engine, call, text } = this
    // The caller gets Prisma's object and may mutate it: the tiers and the flight's other reads get a copy taken now
    // that shares nothing with it (not even a Decimal or a Buffer), and the entry's lifetime starts now.
    const master = copyResult(value, true)
    const times = engine.policies.times(call.policy, call.query, value)
    const keep = () => this.keepFill(snapshot, master, times, lease)
    // With Redis the rest is done after the answer, while the next read waits on its own round trip
    // (pending-fills.ts). Without it there is no round trip to wait on, and a fine list entry is checked against
    // this process's versions at once, when it is most likely to be made.
    const landed = engine.redis ? engine.pendingFills.defer(text, keep) : keep()
    if (landed) engine.inBackground(landed)
    return { master, landed, times }
  }

  /** Stores a fill (`master`, no one else's) in both tiers: gives what is still on its way to Redis. */
  private keepFill(
    snapshot: Versions,
    master: unknown,
    times: EntryTimes,
    lease: string | undefined,
  ): Promise<unknown> | undefined {
    const { engine, text } = this
    const release = () => (lease ? engine.leases?.release(text, lease) : undefined)
    let bytes: Uint8Array
    try {
      bytes = encodeValue(master)
    } catch (error) {
      engine.reporter.codec('a result could not be encoded; it was not cached', error)
      return release()
    }
    if (bytes.byteLength > engine.maxEntryBytes) {
      engine.reporter.tooLarge(bytes.byteLength)
      return release()
    }
    const deps = this.deps() as string[]
    const { versions } = snapshot
    engine.local?.set(text, { value: master, deps, versions }, times)
    engine.stats.fills++
    this.filled = true
    const names = this.fine && !lease ? fineNames(this.fine, master) : undefined
    if (names) return this.storeFine(snapshot, names, master, bytes, times)
    const redis = engine.redis
    if (!redis) return undefined
    // The frame is made of the bytes taken above when the SET goes out.
    const makeFrame = () => this.frame(deps, versions, bytes, times)
    const leases = engine.leases
    if (lease && leases) {
      return (async () => {
        const made = makeFrame()
        // A fill a write overtook is refused: the versions it was read under must still be current.
        if (made && (await leases.allowsFill(text, lease, deps, versions))) {
          await redis.set(this.redisKey, made.value, made.ttlMs)
        }
        await leases.release(text, lease)
      })()
    }
    const sent = redis.setSoon(this.redisKey, makeFrame)
    engine.inBackground(sent)
    // Pipelined, the SET goes out with or before any later GET of this process: a later read's lookup finds it.
    return redis.pipelines ? undefined : sent
  }

  /**
   * Stores a fine list entry: under the versions of `names` (its rows' among them), read once the answer is known,
   * if the read's own versions are still the snapshot's then. Any write that changed the answer after the SQL and
   * was bumped before that read bumped one of the read's own names (every write to a row of the predicate bumps its
   * predicate), so the fine entry is not made; one bumped after it bumps a name the fine entry holds. Without Redis
   * the map is the truth and the check is made as it is stored; with Redis, in one atomic version read.
   */
  private storeFine(
    snapshot: Versions,
    names: string[],
    master: unknown,
    bytes: Uint8Array,
    times: EntryTimes,
  ): Promise<unknown> | undefined {
    const { engine, text } = this
    const deps = this.deps()
    const keepLocally = (versions: number[]) => engine.local?.set(text, { value: master, deps: names, versions }, times)
    const redis = engine.redis
    if (!redis) {
      const versions = engine.versions.matches(deps, snapshot.versions) ? engine.versions.peek(names) : undefined
      if (versions) keepLocally(versions)
      return undefined
    }
    return (async () => {
      const own = new Set(deps)
      const all = [...deps, ...names.filter((name) => !own.has(name))]
      const read = await engine.versions.readNow(all, performance.now() + redis.timeoutMs)
      if (!read || !sameList(read.slice(0, deps.length), snapshot.versions)) return
      const at = new Map(all.map((name, i) => [name, read[i] as number]))
      const versions = names.map((name) => at.get(name) as number)
      keepLocally(versions)
      const made = this.frame(names, versions, bytes, times)
      if (made) await redis.set(this.redisKey, made.value, made.ttlMs)
    })()
  }

  /** The Redis frame of an entry, or undefined when it is too large to be worth writing. */
  private frame(
    deps: string[],
    versions: number[],
    bytes: Uint8Array,
    times: EntryTimes,
  ): { value: Buffer; ttlMs: number } | undefined {
    const frame = encodeEntry({ query: this.text, deps, versions, ...times, value: bytes })
    // The frame carries the query text too: one no instance could read back is not worth writing.
    if (frame.length <= this.engine.maxEntryBytes + 1024) return { value: frame, ttlMs: times.expiresAt - Date.now() }
    this.engine.reporter.tooLarge(frame.length)
    return undefined
  }

  answer(value: unknown, owned: boolean, notFound?: unknown): unknown {
    return answer(this.call, owned ? value : copyResult(value), notFound)
  }
}

/**
 * Decodes the value `bytes` hold again, from a copy of them taken now. The copy is a Buffer, which Node carves from
 * a shared slab when small: a new ArrayBuffer of its own (`slice`) costs several times more, on every Redis hit.
 */
function decoderOf(bytes: Uint8Array): () => unknown {
  const own = Buffer.allocUnsafe(bytes.byteLength)
  own.set(bytes)
  return () => decodeValue(own)
}

/** Same dependencies, and every version at least the one this read snapshotted. */
function notOlder(entryDeps: string[], entryVersions: number[], deps: readonly string[], versions: number[]): boolean {
  if (entryDeps.length !== deps.length) return false
  for (let i = 0; i < deps.length; i++) {
    if (entryDeps[i] !== deps[i] || (entryVersions[i] as number) < (versions[i] as number)) return false
  }
  return true
}
