/**
 * The version of every model and tag, as this process knows it. A cached result is current only while every
 * version it was filled under is still the current one (DESIGN invariant 2). With Redis, the truth is the version
 * keys in Redis; this process keeps a copy that the bus keeps fresh, and trusts it only while the bus is
 * subscribed. Without Redis, the copy is the truth.
 */
import type { Stats } from '../metrics/stats'
import type { KeySpace } from './keys'
import { FAILED, type RedisTier } from './redis-tier'
import { bumpVersions, readVersions } from './scripts'
import { type Budget, TurnBatch } from './turn-batch'

/**
 * How often a bump that could not reach Redis is tried again (also at once when the connection is ready again).
 * While Redis stays away the circuit breaker answers these tries without touching the network.
 */
const OWED_RETRY_MS = 50
/**
 * Most versions kept in memory. Rows of write-through models each have one, so the map is bounded: past this, the
 * oldest tenth is forgotten. With Redis a forgotten version is asked again; without, see `forget`.
 */
const MAX_KNOWN = 200_000

export class Versions {
  private readonly known = new Map<string, number>()
  /** Whether `known` may answer without asking Redis. Always with no Redis; with Redis, while the bus is up. */
  private trusted: boolean
  /** Changes whenever trust changes, so a Redis answer that raced a bus drop is not kept. */
  private epoch = 0
  /** Bumps that could not reach Redis: Redis is not used for reads until they are made. */
  private readonly owed = new Set<string>()
  private retryTimer: NodeJS.Timeout | undefined
  private closed = false
  /** Without Redis, versions start here: never a value an earlier process used for its (local) entries. */
  private localSeed = Date.now() * 1000
  /** Without Redis, the largest version ever given out: a forgotten name comes back above it. */
  private localMax = this.localSeed

  constructor(
    private readonly redis: RedisTier | undefined,
    private readonly keys: KeySpace,
    private readonly origin: string,
    private readonly stats: Stats,
  ) {
    this.trusted = redis === undefined
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

  private current(name: string): number | undefined {
    const v = this.known.get(name)
    if (v !== undefined || this.redis) return v
    this.set(name, this.localSeed)
    return this.localSeed
  }

  private set(name: string, version: number): void {
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
   */
  snapshot(deps: readonly string[], budget?: Budget): Promise<number[] | undefined> {
    const local = this.peek(deps)
    if (local || !this.redis) return Promise.resolve(local)
    return this.reads.request('', deps, budget)
  }

  private readonly reads: TurnBatch<readonly string[], number[]>

  /** One readVersions call for every name `requests` ask for; each request gets its own slice. */
  private async readUnion(requests: Array<readonly string[]>, deadline: number): Promise<number[][] | undefined> {
    const at = new Map<string, number>()
    for (const deps of requests) for (const name of deps) if (!at.has(name)) at.set(name, at.size)
    const names = [...at.keys()]
    const values = await this.read(names, deadline)
    return values && requests.map((deps) => deps.map((name) => values[at.get(name) as number] as number))
  }

  private async read(deps: readonly string[], deadline: number): Promise<number[] | undefined> {
    if (!this.redis) return undefined
    if (this.owed.size > 0 && !(await this.flushOwed())) return undefined
    const epoch = this.epoch
    const reply = await this.redis.script(
      readVersions,
      deps.map((d) => this.keys.version(d)),
      [],
      deadline,
    )
    if (reply === FAILED || !Array.isArray(reply) || reply.length !== deps.length) return undefined
    const values = reply.map(Number)
    deps.forEach((name, i) => {
      values[i] = this.keep(name, values[i] as number, epoch)
    })
    return values
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
    // A name with an owed bump stays unknown: Redis still holds its version from before our write.
    if (this.trusted && epoch === this.epoch && !this.owed.has(name)) this.set(name, value)
    return value
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
    if (!(await this.sendBump(names))) {
      for (const name of names) {
        this.owed.add(name)
        this.known.delete(name) // a version read while the bump was failing may have come back meanwhile
      }
      this.retryOwed()
    }
  }

  /**
   * Other instances learn of a write only from its bump: one that could not reach Redis is retried on a timer
   * (and when the bus is back) until it lands, not merely on this process's next read, which a write-only
   * process (a job, a queue consumer) may never make.
   */
  private retryOwed(): void {
    if (this.closed || this.retryTimer || this.owed.size === 0) return
    this.retryTimer = setInterval(() => {
      if (this.owed.size === 0) return this.stopRetry()
      void this.flushOwed().then((done) => done && this.stopRetry())
    }, OWED_RETRY_MS)
    this.retryTimer.unref()
  }

  private stopRetry(): void {
    clearInterval(this.retryTimer)
    this.retryTimer = undefined
  }

  /** Sends owed bumps now (the bus is back); the timer keeps trying if Redis is still away. */
  flushOwedSoon(): void {
    if (this.owed.size > 0) void this.flushOwed()
  }

  private async sendBump(names: readonly string[]): Promise<boolean> {
    const redis = this.redis as RedisTier
    const reply = await redis.script(
      bumpVersions,
      names.map((n) => this.keys.version(n)),
      [this.keys.channel, this.origin, ...names],
    )
    if (reply === FAILED || !Array.isArray(reply)) return false
    this.apply(names, reply.map(Number))
    return true
  }

  private flushing: Promise<boolean> | undefined

  /** One flush at a time: the timer, the bus coming back and a read may all ask at once. */
  private flushOwed(): Promise<boolean> {
    this.flushing ??= (async () => {
      const names = [...this.owed]
      const sent = names.length === 0 || (await this.sendBump(names))
      if (sent) for (const name of names) this.owed.delete(name)
      return sent && this.owed.size === 0
    })().finally(() => {
      this.flushing = undefined
    })
    return this.flushing
  }

  /** Stops the retry timer (the engine is closing). */
  close(): void {
    this.closed = true
    this.stopRetry()
  }

  /** New versions from a bump (ours or, through the bus, another process's). */
  apply(names: readonly string[], versions: readonly number[]): void {
    if (!this.trusted && this.redis) return
    names.forEach((name, i) => {
      const v = versions[i] as number
      if (!((this.known.get(name) ?? 0) >= v)) this.set(name, v)
    })
  }

  /** The bus is down: forget every version, ask Redis until it is back (DESIGN invariant 6). */
  distrust(): void {
    this.trusted = false
    this.epoch++
    this.known.clear()
  }

  /** The bus is subscribed again: what is learned from now on is kept fresh by it. */
  trust(): void {
    this.known.clear()
    this.trusted = true
    this.epoch++
  }

  get isTrusted(): boolean {
    return this.trusted
  }
}
