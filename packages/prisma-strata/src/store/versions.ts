/**
 * The version of every model and tag, as this process knows it. A cached result is current only while every
 * version it was filled under is still the current one (design invariant 2, docs/design.md). With Redis, the truth is the version
 * keys in Redis; this process keeps a copy that the bus keeps fresh, and trusts it only while the bus is
 * subscribed. Without Redis, the copy is the truth.
 */
import type { Stats } from '../observe/stats'
import { EVERY_TAG, type KeySpace, registryVersionName } from './keys'
import { FAILED, type RedisTier } from './redis-tier'
import { isRowRequest, parseRowRequest, rowRequestEpoch } from './row-request'
import { bumpVersions, newTimeline, readVersions } from './scripts'
import { type Budget, TurnBatch } from './turn-batch'

/**
 * How often a bump that could not reach Redis is tried again (also at once when the connection is ready again),
 * whatever the circuit breaker says: other instances are stale until it lands, so it never waits out a backoff.
 */
const OWED_RETRY_MS = 50
/**
 * Every how many retries an instance bumps the names another one could not (dirty): rarely, since their writer is
 * retrying them every 50 ms already; this only clears them if that writer is gone.
 */
const ADOPT_EVERY = 20
/** Names per bump call: a backlog goes out in calls Redis answers within the timeout, and no spread overflows. */
export const BUMP_CHUNK = 500
/** Past this many names, tag bumps go out as one bump of `EVERY_TAG`, which every tagged entry depends on. */
export const MAX_BUMP_NAMES = 10_000
/**
 * Most versions kept in memory. Rows of write-through models and predicates (precise invalidation) each have one,
 * so the map is bounded: past this, the oldest tenth is forgotten. With Redis a forgotten version is asked again;
 * without, see `forget`. About 100 bytes each: a million distinct point reads must not hold a million names here.
 */
export const MAX_KNOWN = 50_000
/**
 * Most predicate versions heard on the bus while reads were on their way (`heard`): past this, the reads on their
 * way keep nothing they read (the trust epoch moves), which is always safe.
 */
const MAX_HEARD = 10_000
/** How many names' highest versions a process remembers, and checks against Redis when the bus is back. */
const MAX_HIGHEST = 1_000
const CHECKED_ON_TRUST = 64
/** Below this a version is not one of ours (versions are seeded from Redis TIME in µs, ~1.7e15). */
const SEED_FLOOR = 1e12
/**
 * Version keys expire this long after their last read or bump, or after the longest configured entry lifetime if
 * that is longer: per-query and `wrap` TTLs are not known in advance. An expired one comes back seeded at TIME.
 */
const MIN_VERSION_TTL_MS = 86_400_000

/** Whether `value` can be a version: an integer that JavaScript holds exactly, at or above a TIME seed. */
export function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= SEED_FLOOR
}

/** A read's versions, and its entry's frame when the same call brought it (null: there is none). */
export interface Snapshotted {
  versions: number[]
  /** Undefined when the entry was not read with the versions (they were known here, or Redis is a Cluster). */
  frame?: Buffer | null
}

/** One read's snapshot request: its version names, the predicate schemes it registers first, its entry's key. */
interface Snapshot {
  deps: readonly string[]
  register: ReadonlyArray<readonly [string, string]>
  /** The key of the entry to read along, if any. */
  entry: string | undefined
}

export class Versions {
  private readonly known = new Map<string, number>()
  /** Whether `known` may answer without asking Redis. Always with no Redis; with Redis, while the bus is up. */
  private trusted: boolean
  /** Changes whenever trust changes, so a Redis answer that raced a bus drop is not kept. */
  private epoch = 0
  /** Bumps that could not reach Redis: Redis is not used for reads until they are made. */
  private readonly owed = new Set<string>()
  /** When each owed name was last owed (a count): a flush clears only what it was sent for. */
  private readonly owedSince = new Map<string, number>()
  private owedCount = 0
  /**
   * Names another instance failed to bump (Redis refused it, e.g. out of memory): their version in Redis predates a
   * write, so reads depending on them go to the database until a bump of them lands (this instance tries too).
   */
  private readonly dirty = new Set<string>()
  private retryTimer: NodeJS.Timeout | undefined
  private retries = 0
  private closed = false
  /** Without Redis, versions start here: never a value an earlier process used for its (local) entries. */
  private localSeed = Date.now() * 1000
  /** Without Redis, the largest version ever given out: a forgotten name comes back above it. */
  private localMax = this.localSeed
  /** Milliseconds a version key outlives its last read or bump. */
  readonly ttlMs: number
  /** Calls to Redis for versions on their way: while there are any, `heard` keeps what the bus brought. */
  private fetching = 0
  /**
   * Versions of predicates this process did not know, heard on the bus while a read of versions was on its way.
   * The bus has a connection of its own, so a bump made in Redis just after a read's script ran can be heard before
   * that script's reply: the reply's older version must not be kept (see `keep`). Emptied when no read is on its way.
   */
  private readonly heard = new Map<string, number>()
  /**
   * The highest version this process has seen of the names it used last (bounded; kept when trust is lost).
   * Versions only grow: Redis answering less for one has lost writes (a failback to a server that missed them,
   * keeping its run id, which the timeline check cannot see), and its timeline is ended (`timelineLost`).
   */
  private readonly highest = new Map<string, number>()

  constructor(
    private readonly redis: RedisTier | undefined,
    private readonly keys: KeySpace,
    private readonly origin: string,
    private readonly stats: Stats,
    /** The longest an entry lives by configuration (TTL, then swr or grace). */
    lifetimeMs = 0,
  ) {
    this.trusted = redis === undefined
    this.ttlMs = Math.max(MIN_VERSION_TTL_MS, lifetimeMs)
    this.reads = new TurnBatch(redis?.timeoutMs ?? 0, (requests, deadline) => this.readUnion(requests, deadline))
  }

  /** The hit-path check: does `versions` still equal what is known for `deps`? */
  matches(deps: readonly string[], versions: readonly number[]): boolean {
    if (!this.trusted) return false
    for (let i = 0; i < deps.length; i++) {
      if (this.current(deps[i] as string) !== versions[i]) return false
    }
    return true
  }

  /** Whether this process knows of a write after `versions` to one of `deps` (its own, or one heard on the bus). */
  movedOn(deps: readonly string[], versions: readonly number[]): boolean {
    for (let i = 0; i < deps.length; i++) {
      const known = this.known.get(deps[i] as string)
      if (known !== undefined && known > (versions[i] as number)) return true
    }
    return false
  }

  private current(name: string): number | undefined {
    const v = this.known.get(name)
    if (v !== undefined || this.redis) return v
    this.set(name, this.localSeed)
    return this.localSeed
  }

  private set(name: string, version: number): void {
    this.noteHighest(name, version)
    this.known.set(name, version)
    if (!this.redis && version > this.localMax) this.localMax = version
    if (this.known.size > MAX_KNOWN) this.forget()
  }

  /**
   * Drops the oldest tenth of the known versions. With Redis they are read again when needed; a read in flight
   * meanwhile does not keep what it read (`epoch`). Without Redis the map is the truth: a forgotten name comes
   * back above every version ever given out, so no entry filled under its old version can match again.
   */
  private forget(): void {
    let drop = Math.ceil(MAX_KNOWN / 10)
    for (const name of this.known.keys()) {
      if (drop-- <= 0) break
      this.known.delete(name)
    }
    this.epoch++
    if (!this.redis) this.localSeed = this.localMax + 1
  }

  /** The versions of `deps` without a round trip, when every one is known and trusted. */
  peek(deps: readonly string[]): number[] | undefined {
    if (!this.trusted) return undefined
    const out: number[] = []
    for (const name of deps) {
      const v = this.current(name)
      if (v === undefined) return undefined
      out.push(v)
    }
    return out
  }

  /**
   * The current versions of `deps`, asking Redis for what is not known; `undefined` when Redis cannot answer.
   * Every snapshot asked for in one turn of the event loop shares one script call for the union of their names.
   * `register`: predicate schemes (`[model, scheme]`) to register in the same call, before the versions are read
   * (the call is then made even when every version is known).
   */
  async snapshot(
    deps: readonly string[],
    budget?: Budget,
    register: ReadonlyArray<readonly [string, string]> = [],
  ): Promise<number[] | undefined> {
    return (await this.snapshotWith(deps, undefined, budget, register))?.versions
  }

  /**
   * `snapshot`, and when the call goes to Redis, the frame under `entry` read by the same call: a miss then costs
   * Redis one command before its SQL, whether or not this process knew its versions.
   */
  snapshotWith(
    deps: readonly string[],
    entry: string | undefined,
    budget?: Budget,
    register: ReadonlyArray<readonly [string, string]> = [],
  ): Promise<Snapshotted | undefined> {
    const local = register.length === 0 ? this.peek(deps) : undefined
    if (local) return Promise.resolve({ versions: local })
    if (!this.redis) {
      const known = this.peek(deps)
      return Promise.resolve(known && { versions: known })
    }
    if (this.owed.size > 0) {
      // Redis still holds versions from before our own write: the retry timer sends it, the database answers.
      this.flushOwedSoon()
      return Promise.resolve(undefined)
    }
    if (this.dirty.size > 0 && deps.some((d) => this.dirty.has(d))) return Promise.resolve(undefined)
    // In a Cluster entry keys live in other slots than the versions': the entry is read on its own.
    return this.reads.request('', { deps, register, entry: this.redis.isCluster ? undefined : entry }, budget)
  }

  private readonly reads: TurnBatch<Snapshot, Snapshotted>

  /**
   * The versions Redis holds for `names` now, read in one atomic step whatever this process knows (kept as any
   * version read is); undefined when Redis cannot answer.
   */
  async readNow(names: readonly string[], deadline: number): Promise<number[] | undefined> {
    return (await this.read(names, [], deadline))?.values
  }

  /**
   * One readVersions call for every name (and entry) `requests` ask for, registering every scheme they carry; each
   * request gets its own slice. Identical entries of one turn are read once.
   */
  private async readUnion(requests: Snapshot[], deadline: number): Promise<Snapshotted[] | undefined> {
    const at = new Map<string, number>()
    const entryAt = new Map<string, number>()
    const schemes = new Map<string, Set<string>>()
    for (const { deps, register, entry } of requests) {
      for (const name of deps) if (!at.has(name)) at.set(name, at.size)
      for (const [model, scheme] of register) schemes.set(model, (schemes.get(model) ?? new Set()).add(scheme))
      if (entry !== undefined && !entryAt.has(entry)) entryAt.set(entry, entryAt.size)
    }
    const names = [...at.keys()]
    const read = await this.read(names, [...entryAt.keys()], deadline, schemes)
    if (!read) return undefined
    const { values, frames } = read
    return requests.map(({ deps, entry }) => ({
      versions: deps.map((name) => values[at.get(name) as number] as number),
      frame: entry === undefined ? undefined : (frames[entryAt.get(entry) as number] ?? null),
    }))
  }

  private async read(
    deps: readonly string[],
    entries: readonly string[],
    deadline: number,
    schemes?: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<{ values: number[]; frames: Array<Buffer | null> } | undefined> {
    // A bump owed meanwhile: Redis still holds versions from before our own write (the retry timer sends it).
    if (!this.redis || this.owed.size > 0) return undefined
    const epoch = this.epoch
    this.fetching++
    try {
      const read = await this.fetch(deps, deadline, schemes, entries)
      if (!read) return undefined
      if (this.wentBack(deps, read.values)) {
        await this.timelineLost()
        return undefined
      }
      deps.forEach((name, i) => {
        this.noteHighest(name, read.values[i] as number)
        read.values[i] = this.keep(name, read.values[i] as number, epoch)
      })
      return read
    } finally {
      this.fetched()
    }
  }

  private noteHighest(name: string, version: number): void {
    if (!this.redis) return
    const held = this.highest.get(name)
    if (held !== undefined && held >= version) return
    this.highest.delete(name) // re-inserted last: the first ones are the least recently raised
    this.highest.set(name, version)
    if (this.highest.size > MAX_HIGHEST) this.highest.delete(this.highest.keys().next().value as string)
  }

  /** Whether Redis answered a version below one this process has seen for the same name. */
  private wentBack(names: readonly string[], values: readonly number[]): boolean {
    if (this.highest.size === 0) return false
    for (let i = 0; i < names.length; i++) {
      const held = this.highest.get(names[i] as string)
      if (held !== undefined && (values[i] as number) < held) return true
    }
    return false
  }

  /**
   * Redis lost writes this process saw: a new timeline begins (every version issued before is below its floor, so no
   * entry filled before matches again), and nothing known is kept.
   */
  private async timelineLost(): Promise<void> {
    this.highest.clear()
    this.known.clear()
    this.epoch++
    await (this.redis as RedisTier).script(newTimeline, [this.keys.timeline], [String(this.ttlMs)], { urgent: true })
  }

  /**
   * The bus is back, perhaps on another server: Redis is asked for the names this process raised last, and ends
   * its timeline if it answers less for one. A new instance remembers nothing, so the ones running find it first.
   */
  private async checkTimeline(): Promise<void> {
    const names = [...this.highest.keys()].slice(-CHECKED_ON_TRUST)
    if (names.length === 0 || !this.redis) return
    const held = names.map((name) => this.highest.get(name) as number)
    const read = await this.fetch(names)
    if (read?.values.some((v, i) => v < (held[i] as number))) await this.timelineLost()
  }

  /** A read of versions is back (its versions kept): with none left on its way, nothing heard is needed. */
  private fetched(): void {
    if (--this.fetching === 0 && this.heard.size > 0) this.heard.clear()
  }

  /**
   * The versions Redis holds for `deps` (seeding those missing or not ours), after registering `schemes`, and
   * the frames under `entries`, in one call; undefined when it cannot answer.
   */
  private async fetch(
    deps: readonly string[],
    deadline?: number,
    schemes?: ReadonlyMap<string, ReadonlySet<string>>,
    entries: readonly string[] = [],
  ): Promise<{ values: number[]; frames: Array<Buffer | null> } | undefined> {
    const keys = [this.keys.timeline, ...deps.map((d) => this.keys.version(d))]
    const args = [String(this.ttlMs), String(deps.length), this.keys.channel, this.origin]
    for (const [model, list] of schemes ?? []) {
      keys.push(this.keys.schemes(model), this.keys.version(registryVersionName(model)))
      args.push(model, [...list].join(' '))
    }
    // Entry keys go last: the script reads every key after the registry pairs as an entry (frames are binary).
    for (const entry of entries) keys.push(entry)
    const reply = await (this.redis as RedisTier).script(readVersions, keys, args, {
      deadline,
      binary: entries.length > 0,
    })
    if (reply === FAILED || !Array.isArray(reply) || reply.length !== deps.length + entries.length) return undefined
    const values = reply.slice(0, deps.length).map(Number)
    if (!values.every(isVersion)) return undefined
    // The registry version read in the step that registered: the one the schemes are registered under (not a
    // later one a bus message may bring meanwhile, which a lost registry could have been recreated under).
    for (const [model, list] of schemes ?? []) {
      const at = deps.indexOf(registryVersionName(model))
      if (at >= 0) this.onRegistered?.(model, list, values[at] as number)
    }
    const frames = reply.slice(deps.length).map((f) => (Buffer.isBuffer(f) ? f : null))
    return { values, frames }
  }

  /** Told of schemes registered in Redis, and the registry version they were registered under. */
  onRegistered: ((model: string, schemes: Iterable<string>, version: number) => void) | undefined

  /**
   * Whether `versions`, which an entry was filled under and this process has not heard of, are the ones Redis
   * holds for `deps` now; if so they are learned. Redis decides: an entry's own versions are never adopted.
   */
  async confirm(deps: readonly string[], versions: readonly number[], deadline?: number): Promise<boolean> {
    // A bump of ours owed: Redis holds versions from before our write (as for reads, `snapshotWith`).
    if (!this.redis || this.owed.size > 0) return false
    const epoch = this.epoch
    this.fetching++
    try {
      const values = (await this.fetch(deps, deadline))?.values
      if (values && this.wentBack(deps, values)) {
        await this.timelineLost()
        return false
      }
      if (!values || values.some((v, i) => v !== versions[i]) || this.owed.size > 0) return false
      // A newer version heard meanwhile: the entry's are no longer current.
      for (let i = 0; i < deps.length; i++) {
        if (this.keep(deps[i] as string, values[i] as number, epoch) !== values[i]) return false
      }
      return true
    } finally {
      this.fetched()
    }
  }

  /** The trust epoch, to pass to `keep` for a version read from Redis. */
  get currentEpoch(): number {
    return this.epoch
  }

  /** Takes in a version Redis returned to a read started at `epoch`; returns the one to use. */
  keep(name: string, value: number, epoch: number): number {
    // A bus message may have brought a newer version while the reply travelled: keep the larger one.
    const known = this.known.get(name)
    if (known !== undefined && known > value) return known
    const heard = this.heard.size > 0 ? this.heard.get(name) : undefined
    const newest = heard !== undefined && heard > value ? heard : value
    // Nothing is learned while a bump of ours is owed: Redis holds versions from before our write, and an owed row
    // request stands for predicates not known here (its model's epoch was forgotten for them), so no name is
    // safe to learn, even from a reply sent before the bump failed. Nor is a name another instance could not bump.
    if (this.trusted && epoch === this.epoch && this.owed.size === 0 && !this.dirty.has(name)) this.set(name, newest)
    return newest
  }

  /** Without Redis: the next version of `name` (a row's), not counted as an invalidation. */
  bumpLocal(name: string): number {
    const next = (this.current(name) as number) + 1
    this.set(name, next)
    return next
  }

  /** Forgets `name` until Redis answers again (a bump of it is on its way). */
  unsettle(name: string): void {
    this.known.delete(name)
  }

  /** Makes every entry depending on `names` stale, here at once and elsewhere through the bus. */
  async bump(names: readonly string[]): Promise<void> {
    if (names.length === 0) return
    this.stats.invalidations += names.length
    if (!this.redis) {
      for (const name of names) this.set(name, (this.current(name) as number) + 1)
      return
    }
    // Until Redis confirms, this process must not trust what it knew of these names.
    for (const name of names) this.known.delete(name)
    const unsent = await this.sendBumps(coarsen(names), false)
    if (unsent.length > 0) {
      for (const name of unsent) {
        this.owed.add(name)
        this.owedSince.set(name, ++this.owedCount)
        // A version read while the bump was failing may have come back meanwhile. For a row request, the
        // predicates it would bump are not known here: every predicate entry of the model depends on its predicate epoch.
        this.known.delete(rowRequestEpoch(name) ?? name)
      }
      if (this.owed.size > MAX_BUMP_NAMES) this.coarsenOwed()
      // PUBLISH needs no memory: a Redis that refuses the bump (full) still tells the others not to trust these.
      const distrusted = [...new Set(unsent.map((name) => rowRequestEpoch(name) ?? name))]
      for (let i = 0; i < distrusted.length; i += BUMP_CHUNK) {
        const message = `${this.origin} ! ${distrusted.slice(i, i + BUMP_CHUNK).join(' ')}`
        void this.redis.publish(this.keys.channel, message, true)
      }
      this.retryOwed()
    }
  }

  /** Whether a bump of one of `names` has not reached Redis yet (it is owed and being retried). */
  owes(names: readonly string[]): boolean {
    return this.owed.size > 0 && names.some((name) => this.owed.has(name))
  }

  /** Another instance could not bump `names`: distrust their versions until a bump of them lands. */
  markDirty(names: readonly string[]): void {
    if (!this.redis) return
    for (const name of names) {
      this.dirty.add(name)
      this.known.delete(name)
    }
    this.retryOwed()
  }

  /**
   * Other instances learn of a write only from its bump: one that could not reach Redis is retried on a timer
   * (and when the bus is back) until it lands, not merely on this process's next read, which a write-only
   * process (a job, a queue consumer) may never make. Dirty names are retried too, so they clear even if the
   * instance that owes their bump is gone.
   */
  private retryOwed(): void {
    if (this.closed || this.retryTimer || (this.owed.size === 0 && this.dirty.size === 0)) return
    this.retryTimer = setInterval(() => {
      if (this.owed.size === 0 && this.dirty.size === 0) return this.stopRetry()
      void this.flushOwed(++this.retries % ADOPT_EVERY === 0)
    }, OWED_RETRY_MS)
    this.retryTimer.unref()
  }

  private stopRetry(): void {
    clearInterval(this.retryTimer)
    this.retryTimer = undefined
  }

  /** Sends owed bumps now (the bus is back); the timer keeps trying if Redis is still away. */
  flushOwedSoon(): void {
    if (this.owed.size > 0) void this.flushOwed(false)
  }

  /** Replaces owed tag bumps by one of `EVERY_TAG`: the backlog stays bounded and one call can clear it. */
  private coarsenOwed(): void {
    const names = coarsen([...this.owed])
    this.owed.clear()
    this.owedSince.clear()
    for (const name of names) {
      this.owed.add(name)
      this.owedSince.set(name, ++this.owedCount)
    }
  }

  /** Bumps `names` in chunks, stopping at the first that fails; returns the names not bumped. */
  private async sendBumps(names: readonly string[], urgent: boolean): Promise<string[]> {
    for (let i = 0; i < names.length; i += BUMP_CHUNK) {
      if (!(await this.sendBump(names.slice(i, i + BUMP_CHUNK), urgent))) return names.slice(i)
    }
    return []
  }

  private async sendBump(names: readonly string[], urgent: boolean): Promise<boolean> {
    const redis = this.redis as RedisTier
    const plain = names.filter((n) => !isRowRequest(n))
    const keys = [this.keys.timeline, ...plain.map((n) => this.keys.version(n))]
    const args = [this.keys.channel, this.origin, String(this.ttlMs), String(plain.length), this.keys.version('')]
    args.push(...plain)
    for (const name of names) {
      const request = parseRowRequest(name)
      if (!request) continue
      keys.push(this.keys.schemes(request.model), this.keys.version(registryVersionName(request.model)))
      args.push(request.model, request.changed, request.fields, request.hashes, request.kept)
    }
    const epoch = this.epoch
    const reply = await redis.script(bumpVersions, keys, args, { urgent })
    if (reply === FAILED || !Array.isArray(reply) || reply.length < plain.length) return false
    const bumped = [...plain]
    const versions = reply.slice(0, plain.length).map(Number)
    const marker = reply.findIndex((item, i) => i >= plain.length && String(item) === '#')
    const end = marker < 0 ? reply.length : marker
    for (let i = plain.length; i + 1 < end; i += 2) {
      bumped.push(String(reply[i]))
      versions.push(Number(reply[i + 1]))
    }
    this.apply(bumped, versions)
    // Registry versions read, not bumped: learned like a read's (the larger wins), never settling a dirty name. One
    // that cannot be learned now (a bump owed, trust or epoch moved meanwhile) is forgotten instead: an older one kept
    // would let this process take its schemes for registered, and its reads after this write skip Redis.
    if (marker >= 0) {
      for (let i = marker + 1; i + 1 < reply.length; i += 2) {
        const name = String(reply[i])
        const version = Number(reply[i + 1])
        this.keep(name, version, epoch)
        const known = this.known.get(name)
        if (known === undefined || known < version) this.known.delete(name)
      }
    }
    return true
  }

  private flushing: Promise<void> | undefined

  /** One flush at a time: the timer, the bus coming back and a read may all ask at once. `adopt`: dirty names too. */
  private flushOwed(adopt: boolean): Promise<void> {
    this.flushing ??= (async () => {
      const owed = [...this.owed]
      // A name owed again while this flush was on its way (a later write's bump failed) stays owed: this flush's
      // bump may have reached Redis before that write committed.
      const since = owed.map((name) => this.owedSince.get(name))
      const unsent = new Set(await this.sendBumps(owed, true))
      owed.forEach((name, i) => {
        if (unsent.has(name) || this.owedSince.get(name) !== since[i]) return
        this.owed.delete(name)
        this.owedSince.delete(name)
      })
      if (adopt && unsent.size === 0 && this.dirty.size > 0) await this.sendBumps(coarsen([...this.dirty]), true)
    })().finally(() => {
      this.flushing = undefined
    })
    return this.flushing
  }

  /**
   * The engine is closing: bumps still owed are sent until Redis takes them or `waitMs` has passed (a job that writes
   * during a Redis stall and exits must not leave every other instance serving what it changed), then the retry
   * timer stops. Returns how many names were given up on.
   */
  async close(waitMs: number): Promise<number> {
    this.stopRetry()
    const until = Date.now() + waitMs
    while (this.owed.size > 0 && this.redis && Date.now() < until) {
      await this.flushOwed(false)
      if (this.owed.size > 0) await new Promise((resolve) => setTimeout(resolve, OWED_RETRY_MS))
    }
    this.closed = true
    return this.redis ? this.owed.size : 0
  }

  /** New versions from a bump (ours or, through the bus, another process's). */
  apply(names: readonly string[], versions: readonly number[]): void {
    if (this.dirty.size > 0) this.settleDirty(names)
    // Without Redis, versions only change through `bump` and `bumpLocal`: forgetting one would lose it.
    if (!this.redis || !this.trusted) return
    names.forEach((name, i) => {
      const v = versions[i]
      const known = this.known.get(name)
      if (v === known) return
      // Predicates are many: one this process has not read is left to Redis rather than remembered, unless a read
      // of versions is on its way, which may bring back the version from before this one (see `heard`).
      if (known === undefined && isPredicateName(name)) {
        if (this.fetching > 0) {
          if (isVersion(v)) this.hear(name, v)
          else this.epoch++ // changed, to a value that is not a version: the reads on their way keep nothing
        }
        return
      }
      // A newer version is the change; anything else (not a version, or below what is known: a late message, or
      // a bad value known before) is forgotten, so Redis decides and no bad value can hide later bumps. While a
      // bump of ours is owed nothing is learned (see `keep`): a late message may carry the version an entry filled
      // before our write was stored under.
      if (this.owed.size === 0 && isVersion(v) && (known === undefined || v > known)) this.set(name, v)
      else this.known.delete(name)
    })
  }

  private hear(name: string, version: number): void {
    if (this.heard.size >= MAX_HEARD) {
      // Too many to hold: the reads on their way keep nothing (the next ones ask Redis again).
      this.heard.clear()
      this.epoch++
      return
    }
    const held = this.heard.get(name)
    if (held === undefined || version > held) this.heard.set(name, version)
  }

  /** A bump of `names` landed: they are no longer dirty (`EVERY_TAG` settles every tag). */
  private settleDirty(names: readonly string[]): void {
    for (const name of names) {
      this.dirty.delete(name)
      if (name === EVERY_TAG) for (const d of this.dirty) if (d.startsWith('t:')) this.dirty.delete(d)
    }
  }

  /** The bus is down: forget every version, ask Redis until it is back (design invariant 6, docs/design.md). */
  distrust(): void {
    this.trusted = false
    this.epoch++
    this.known.clear()
  }

  /**
   * The bus is subscribed again: what is learned from now on is kept fresh by it. Settles once Redis was asked
   * whether it went back in time (`checkTimeline`).
   */
  trust(): Promise<void> {
    this.known.clear()
    this.trusted = true
    this.epoch++
    const checking = this.checkTimeline()
      .catch(() => {})
      .finally(() => {
        if (this.checking === checking) this.checking = undefined
      })
    this.checking = checking
    return checking
  }

  private checking: Promise<void> | undefined

  /** Trusted, and Redis was asked whether it went back in time since the bus came back. */
  get isReady(): boolean {
    return this.trusted && this.checking === undefined
  }

  get isTrusted(): boolean {
    return this.trusted
  }
}

/** Whether `name` is a predicate's or a scheme's version (precise invalidation). */
function isPredicateName(name: string): boolean {
  return (name.charCodeAt(0) === 112 /* p */ || name.charCodeAt(0) === 115) /* s */ && name.charCodeAt(1) === 58
}

/** `names`, with every tag replaced by `EVERY_TAG` when there are more than `MAX_BUMP_NAMES`. */
function coarsen(names: readonly string[]): string[] {
  if (names.length <= MAX_BUMP_NAMES) return [...names]
  const kept = names.filter((n) => !n.startsWith('t:'))
  return kept.length < names.length ? [...kept, EVERY_TAG] : kept
}
