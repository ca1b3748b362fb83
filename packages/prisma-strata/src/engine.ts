/**
 * One Engine per extended client: the tiers, the versions, the model graph and the counters that the read path,
 * the write path and `$cache` share.
 */
import { randomUUID } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import type { Args } from './args'
import { ChangeFollower } from './changes/follower'
import { BumpsLostError, StrataOptionsError } from './errors'
import { Reporter } from './observe/reporter'
import { Stats } from './observe/stats'
import type { ResolvedOptions } from './options'
import { Policies } from './policy/policy'
import { queryCallbacks } from './query-callbacks'
import { ComputedFields } from './read/computed-fields'
import type { Outcome } from './read/entry-kind'
import { Flights } from './read/flights'
import { setClientVersion } from './read/not-found'
import { PendingFills } from './read/pending-fills'
import { FRESH, freshness, omitScope } from './read/read-call'
import { Refreshes } from './read/refreshes'
import { delegateName } from './schema/delegate-name'
import { buildModelGraph, type ModelGraph, type RuntimeDataModel } from './schema/model-graph'
import { readSchemaText, schemaFacts } from './schema/schema-text'
import { Bus } from './store/bus'
import {
  hash,
  type KeySpace,
  keySpace,
  modelVersionName,
  predicatesVersionName,
  rowsVersionName,
  rowVersionName,
  tagVersionName,
} from './store/keys'
import { Leases } from './store/leases'
import { LocalTier } from './store/local-tier'
import { type RedisClient, RedisTier } from './store/redis-tier'
import { rowRequestEpoch } from './store/row-request'
import { RowStore } from './store/row-store'
import { Schemes } from './store/schemes'
import type { Budget } from './store/turn-batch'
import { Versions } from './store/versions'
import { PendingTransactions } from './transaction/pending-transactions'
import { WritesInFlight } from './write/writes-in-flight'

/** The parts of a Prisma client the engine reads (internal fields, stable across Prisma 7). */
export interface PrismaInternals {
  _runtimeDataModel: RuntimeDataModel
  _engineConfig?: { inlineSchema?: string; activeProvider?: string }
  _clientVersion?: string
  /** The client's `omit` option, by model delegate name. */
  _globalOmit?: Record<string, Record<string, unknown>>
}

function isClient(value: unknown): value is RedisClient {
  return typeof (value as { getBuffer?: unknown })?.getBuffer === 'function'
}

/** How long `close()` keeps sending bumps Redis has not taken yet before giving up on them. */
const OWED_CLOSE_WAIT_MS = 10_000

export class Engine {
  readonly graph: ModelGraph
  readonly policies: Policies
  readonly stats = new Stats()
  /** Faults and the `onHit`/`onMiss`/`onInvalidate` hooks. */
  readonly reporter: Reporter
  readonly keys: KeySpace
  readonly local: LocalTier | undefined
  readonly redis: RedisTier | undefined
  readonly versions: Versions
  /** Lookups and database queries under way: concurrent identical misses share one (single flight). */
  readonly flights: Flights<Outcome>
  /** Background refreshes under way (stale-while-revalidate): one per entry. */
  readonly refreshes: Refreshes
  /** Fills answered and not yet stored: stored after the answer, or before a read of the same text. */
  readonly pendingFills: PendingFills
  readonly leases: Leases | undefined
  /** Predicate schemes reads registered (precise invalidation). */
  readonly schemes: Schemes
  /** Rows of write-through models in Redis. */
  readonly rows: RowStore | undefined
  readonly transactions = new PendingTransactions()
  /** Follows the database's change stream (`changes`), when configured. */
  readonly changes: ChangeFollower | undefined
  /** Whether the model graph knows foreign keys (schema text read) or invalidates conservatively. */
  readonly precise: boolean
  /** The database's provider (`postgresql`, `sqlite`...): which SQL parser reads raw statements. */
  readonly provider: string | undefined
  readonly maxEntryBytes: number
  /** The partition of the current read (`options.context`), or undefined when the cache is not partitioned. */
  readonly context: (() => string | number | undefined) | undefined
  /** The client's global `omit`, as query texts carry it. */
  readonly omitScope: string
  private readonly bus: Bus | undefined
  private readonly ownedClient: RedisClient | undefined
  private detach: (() => void) | undefined
  private readonly versionNames = new Map<string, string>()
  private readonly readyWaiters: Array<(ready: boolean) => void> = []
  /** Fills and refreshes still writing to Redis: `close()` lets them finish. */
  private readonly background = new Set<Promise<unknown>>()

  constructor(
    options: ResolvedOptions,
    private readonly client: PrismaInternals,
  ) {
    const runtime = client._runtimeDataModel
    // A cached "no such row" answers `*OrThrow` with Prisma's error, which names the client's version.
    setClientVersion(client._clientVersion)
    // The generator's module when given; else what the client's schema text says; else conservative.
    const facts = options.schema ? schemaFacts(options.schema) : readSchemaText(client._engineConfig?.inlineSchema)
    this.provider = client._engineConfig?.activeProvider
    this.graph = buildModelGraph(runtime, facts?.foreignKeys, facts?.keys, this.provider !== 'mysql')
    this.precise = this.graph.foreignKeysTo !== undefined
    this.maxEntryBytes = options.maxEntryBytes
    this.context = options.context
    this.omitScope = omitScope(client._globalOmit)
    const models = Object.keys(runtime.models)
    for (const name of Object.keys(options.models)) {
      if (!models.includes(name)) {
        throw new StrataOptionsError(
          `cache(): \`models.${name}\` is not a model of this client. Models: ${models.join(', ')}.`,
        )
      }
    }
    for (const name of models) this.versionNames.set(name, modelVersionName(name))
    this.policies = new Policies(options, facts?.policies ?? {}, models, facts?.views)
    for (const name of models) {
      if (this.policies.writesThrough(name) && !this.graph.models.get(name)?.id.length) {
        throw new StrataOptionsError(
          `cache(): model ${name} has strategy "write-through", but its primary key is unknown: pass the \`schema\` prisma-strata-generator emits.`,
        )
      }
    }
    this.reporter = new Reporter(this.stats, options)
    this.refreshes = new Refreshes(this.reporter.error, (work) => this.inBackground(work))
    // The fills of a turn are stored once its answers are given: nothing is gained by holding their SETs longer.
    this.pendingFills = new PendingFills(this.reporter.error, () => this.redis?.sendWaiting())
    this.flights = new Flights(
      options.redisTimeout,
      (outcome) => outcome.landed,
      (outcome) => freshness(outcome.times) === FRESH,
    )
    this.keys = keySpace(options.prefix)
    this.local = options.local ? new LocalTier(options.local.maxBytes, options.local.ttl) : undefined
    const origin = randomUUID().slice(0, 8)
    let redisClient: RedisClient | undefined
    if (isClient(options.redis)) redisClient = options.redis
    else if (options.redis !== undefined) {
      const own =
        typeof options.redis === 'string'
          ? new Redis(options.redis, { maxRetriesPerRequest: 2 })
          : new Redis({ maxRetriesPerRequest: 2, ...(options.redis as RedisOptions) })
      own.on('error', () => {}) // failures surface, counted, through RedisTier
      this.ownedClient = own
      redisClient = own
    }
    this.redis = redisClient ? new RedisTier(redisClient, options.redisTimeout, this.reporter.error) : undefined
    this.versions = new Versions(this.redis, this.keys, origin, this.stats, this.policies.longestLifetimeMs())
    this.rows = this.redis ? new RowStore(this.redis, this.keys, origin) : undefined
    this.schemes = new Schemes(this.redis !== undefined)
    this.versions.onRegistered = (model, schemes, version) => this.schemes.recorded(model, schemes, version)
    this.leases =
      this.redis && options.lease
        ? new Leases(this.redis, this.keys, options.lease.timeout, options.lease.wait)
        : undefined
    if (redisClient) {
      // Bumps owed while the command connection was down go out as soon as it is back: other instances are stale
      // until they land.
      const flush = () => {
        this.redis?.recovered()
        this.versions.flushOwedSoon()
      }
      redisClient.on('ready', flush)
      this.detach = () => redisClient.off('ready', flush)
      this.bus = new Bus(
        redisClient,
        this.keys.channel,
        origin,
        {
          // A write heard of, like one of ours, ends the sharing of flights started before it (flights.ts).
          message: (names, versions) => {
            this.versions.apply(names, versions)
            this.flights.wrote(names)
          },
          dirty: (names) => {
            this.versions.markDirty(names)
            this.flights.wrote(names)
          },
          quiet: () => this.versions.distrust(),
          down: () => {
            this.versions.distrust()
            this.local?.clear()
          },
          up: () => {
            const checked = this.versions.trust()
            this.versions.flushOwedSoon()
            void checked.then(() => {
              for (const resolve of this.readyWaiters.splice(0)) resolve(true)
            })
          },
        },
        this.reporter.error,
        options.heartbeat,
        options.staleness,
      )
      this.bus.start()
    }
    this.changes =
      options.changes && this.redis
        ? new ChangeFollower(options.changes, {
            graph: this.graph,
            views: facts?.views ?? [],
            redis: this.redis,
            keys: this.keys,
            report: this.reporter.error,
            namesFor: (models, rows, predicates) => this.namesFor(models, rows, predicates),
            followsRows: (model) => this.followsRows(model),
            bump: (names) => this.bump(names),
            owes: (names) => this.versions.owes(names),
          })
        : undefined
    this.changes?.start()
  }

  modelVersionName(model: string): string {
    return this.versionNames.get(model) ?? modelVersionName(model)
  }

  /** Bumps the versions of models and tags: every entry depending on one of them stops being served. */
  invalidate(models: readonly string[], tags: readonly string[] = []): Promise<void> {
    const names = [...this.namesFor(models), ...tags.map(tagVersionName)]
    return this.bump([...new Set(names)].sort())
  }

  /**
   * The version names a change to rows of `models` bumps: each model's; the row epoch of those in `rows`
   * (write-through row entries); and of those in `predicates`, the version every predicate entry depends on.
   */
  namesFor(models: Iterable<string>, rows: Iterable<string> = models, predicates: Iterable<string> = rows): string[] {
    const names = [...models].map((m) => this.modelVersionName(m))
    // Whatever this instance's strategy and invalidation: another instance of the prefix may keep write-through rows
    // or predicate entries of the model (design invariant 15, docs/design.md).
    for (const model of rows) names.push(rowsVersionName(model))
    for (const model of predicates) names.push(predicatesVersionName(model))
    return names
  }

  /**
   * Models that extensions added after cache() extend with computed fields or with query hooks on writes: those run
   * inside Strata's write hook (between it and the database), so what a write sends or answers there is not what
   * Strata saw (see write-path.ts).
   */
  readonly extendedAbove = new Set<string>()

  /**
   * Of those, the models whose writes have query hooks added after cache(): the arguments those send may reach
   * models the caller's do not (nested writes, keys other rows reference), so such a write changes every model it
   * could reach. And whether raw SQL has such hooks: the statement sent is then not the one Strata parsed.
   */
  readonly hookedAbove = { models: new Set<string>(), raw: false }

  /** The names of such hooked writes under way: reads that depend on one are not served from the cache. */
  readonly writesInFlight = new WritesInFlight()

  private computed: ComputedFields | undefined | null = null

  /** Computed fields of result extensions below this extension, or undefined when there are none. */
  get computedBelow(): ComputedFields | undefined {
    if (this.computed === null) {
      this.computed = ComputedFields.of(this.graph, this.client as unknown as Record<string, unknown>)
    }
    return this.computed
  }

  /** A point read of the whole row, below this extension (never cached): fills and write-through puts. */
  private readonly rowReadsHooked = new Map<string, boolean>()

  /**
   * Whether query hooks below this extension run for `findUnique` of `model`: the rows `loadRow` reads are then
   * what they make of them (a masked field, a filter added), not the table's, so none is kept as a row entry.
   */
  rowsHookedBelow(model: string): boolean {
    let hooked = this.rowReadsHooked.get(model)
    if (hooked === undefined) {
      hooked = queryCallbacks(this.client, model, 'findUnique').length > 0
      this.rowReadsHooked.set(model, hooked)
    }
    return hooked
  }

  loadRow(model: string, args: Args): PromiseLike<unknown> {
    const delegate = (this.client as unknown as Record<string, Record<string, (a: Args) => PromiseLike<unknown>>>)[
      delegateName(model)
    ]
    return (delegate?.findUnique as (a: Args) => PromiseLike<unknown>).call(delegate, args)
  }

  /** The client's `omit` option for `model`: fields left out unless a query selects them. */
  globalOmit(model: string): Args | undefined {
    return this.client._globalOmit?.[delegateName(model)]
  }

  /** Gives a row of a write-through model a new version (dropping its entries); undefined if Redis failed. */
  async bumpRow(model: string, idText: string, ttlMs: number): Promise<number | undefined> {
    const name = rowVersionName(model, idText)
    this.flights.wrote([name])
    if (!this.rows) return this.versions.bumpLocal(name)
    this.versions.unsettle(name)
    const version = await this.rows.bump(model, idText, name, ttlMs)
    if (version !== undefined) this.versions.apply([name], [version])
    this.flights.wrote([name]) // again once done, as `bump` does
    return version
  }

  /** A token of the current versions of models and tags (for ETags), or undefined when Redis cannot answer. */
  async versionTag(models: readonly string[], tags: readonly string[]): Promise<string | undefined> {
    for (const model of models) {
      if (!this.graph.models.has(model)) throw new StrataOptionsError(`$cache.versionTag: unknown model \`${model}\`.`)
    }
    const names = [...new Set([...models.map((m) => this.modelVersionName(m)), ...tags.map(tagVersionName)])].sort()
    const versions = await this.versions.snapshot(names)
    return versions && hash(`${this.keys.channel}|${names.join(',')}|${versions.join(',')}`)
  }

  /**
   * Whether writes to `model` bump the predicates of their rows (precise invalidation): its keys and columns are
   * known. This depends on the schema alone, never on this instance's options: an instance that reads by predicate
   * must see the writes of one that does not (design invariant 15, docs/design.md).
   */
  followsRows(model: string): boolean {
    return this.precise && (this.graph.models.get(model)?.exact.size ?? 0) > 0
  }

  /** Whether reads of `model` depend on predicates: its rows are followed and its policy says `'precise'`. */
  readsByPredicate(model: string): boolean {
    return this.followsRows(model) && this.policies.precise(model)
  }

  /**
   * Bumps version names (`m:Model`, `t:<hash>`) and row requests (the predicates a written row matches), then tells
   * `onInvalidate`.
   */
  async bump(requested: readonly string[]): Promise<void> {
    // A read begun once this write has returned must not share a flight begun before: stamped now, and again
    // when the bump is done. A flight begun while the bump is on its way may still hold versions from before the
    // write (a row request does not make this process forget the predicates it bumps; a version reply Redis made
    // before the bump can be learned meanwhile), and if the bump fails, reads after the write get no versions
    // and would share any flight not stamped out. (Every predicate entry of a model depends on its predicate epoch.)
    const stamped = requested.map((name) => rowRequestEpoch(name) ?? name)
    this.flights.wrote(stamped)
    // Without Redis, row requests are expanded here against this process's registry; with it, by the bump script.
    const names = this.redis ? requested : requested.flatMap((name) => this.schemes.expand(name))
    await this.versions.bump(names)
    this.flights.wrote(stamped)
    if (this.reporter.wantsInvalidations && names.length > 0) {
      const models = names.filter((n) => n.startsWith('m:')).map((n) => n.slice(2))
      this.reporter.invalidated({ models, tags: names.filter((n) => n.startsWith('t:')).length })
    }
  }

  /** One Redis budget for a whole read begun at `from`, however many commands it takes (`RedisTier.guard`). */
  budget(from = performance.now()): Budget {
    return { deadline: from + (this.redis?.timeoutMs ?? 0) }
  }

  /** Resolves true once local hits need no Redis round trip (the bus is subscribed), false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.versions.isReady) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.readyWaiters.indexOf(done)
        if (i >= 0) this.readyWaiters.splice(i, 1)
        resolve(false)
      }, timeoutMs)
      const done = (ready: boolean) => {
        clearTimeout(timer)
        resolve(ready)
      }
      this.readyWaiters.push(done)
    })
  }

  /** Runs work the caller does not wait for (storing a fill, a refresh); `close()` waits for it. */
  inBackground(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.background.delete(tracked))
    this.background.add(tracked)
  }

  async close(): Promise<void> {
    this.pendingFills.flush()
    // Let fills already on their way to Redis land (another instance may be waiting on one under a lease).
    const pending = Promise.allSettled([...this.background])
    await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    // Before the versions and the bus: what it has not acknowledged, the next follower replays from the slot.
    await this.changes?.close()
    const lost = await this.versions.close(OWED_CLOSE_WAIT_MS)
    if (lost > 0) this.reporter.error(new BumpsLostError(lost, OWED_CLOSE_WAIT_MS))
    this.detach?.()
    await this.bus?.close()
    this.ownedClient?.disconnect()
    this.local?.clear()
  }
}
