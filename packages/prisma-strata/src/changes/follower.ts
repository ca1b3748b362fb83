/**
 * Follows PostgreSQL's change stream (a logical replication slot, `pgoutput`) so that writes made outside Prisma
 * (psql, a migration, another service) make cached reads stale like Prisma's own. For each committed transaction,
 * the models of the tables it changed, and what referential actions reach from them, are bumped; rolled-back
 * transactions never reach the stream. A position is acknowledged to PostgreSQL only once the bumps of every change
 * up to it are in Redis (design invariant 14, docs/design.md): a follower that dies, or a Redis that is down,
 * loses nothing, as the next follower resumes from the slot (at least once; a bump twice only costs hits).
 *
 * One instance of a prefix follows at a time, the one holding the lease (follower-lease.ts); every instance checks
 * the slot now and then, reports what is wrong with it and how far behind it is (`stats().changes`).
 */
import { ChangesError } from '../errors'
import type { ReportError } from '../observe/reporter'
import type { ResolvedChanges } from '../options'
import type { ModelGraph, ModelInfo } from '../schema/model-graph'
import { type SchemaTables, tableKey, tablesBySchema } from '../schema/table-models'
import type { KeySpace } from '../store/keys'
import type { RedisTier } from '../store/redis-tier'
import type { ChangesStatus } from './changes-status'
import { FollowerLease } from './follower-lease'
import { defaultSchema, loadReplication, slotStatus, statusProblem, withClient } from './postgres'
import { publicationProblem, published } from './publication'
import { rowRequestsOf } from './row-changes'
import { Session, type SessionHost } from './stream-session'

/** What the follower needs of the engine. */
export interface FollowerHost {
  graph: ModelGraph
  /** Models that are views: no table of theirs is published. */
  views: readonly string[]
  redis: RedisTier
  keys: KeySpace
  report: ReportError
  /** The version names a change to rows of `models` bumps: each model's, the row epochs of `rows`, and every
   * predicate of `predicates`. */
  namesFor(models: Iterable<string>, rows: Iterable<string>, predicates: Iterable<string>): string[]
  /** Whether writes to `model` bump by the predicates their rows match (schema facts only). */
  followsRows(model: string): boolean
  bump(names: readonly string[]): Promise<void>
  /** Whether a bump of one of `names` is still owed to Redis (it failed and is being retried). */
  owes(names: readonly string[]): boolean
}

/** Past this many bytes held by the slot, every status check reports it (the slot keeps WAL on the server's disk). */
const WARN_LAG_BYTES = 1024 * 1024 * 1024
/** How often every instance checks the slot (and measures its lag). */
const STATUS_INTERVAL_MS = 10_000
/** Longest wait for a replication connection to close. */
const STOP_WAIT_MS = 2000
/** Longest wait between attempts to start following after a failure. */
const MAX_BACKOFF_MS = 60_000

export class ChangeFollower implements SessionHost {
  readonly counters = { transactions: 0, bumps: 0 }
  private readonly lease: FollowerLease
  /** Tables to models, once the default schema is known (each session reads it before it streams). */
  private tables: SchemaTables = { reach: new Map(), own: new Map() }
  private timer: NodeJS.Timeout | undefined
  private statusTimer: NodeJS.Timeout | undefined
  private holding = false
  private session: Session | undefined
  private closed = false
  private backoffMs = 0
  private nextAttempt = 0
  private lagBytes: number | undefined
  /** The tick under way: ticks never overlap. */
  private ticking: Promise<void> | undefined
  /** A session being started (its checks and connection), at most one. */
  private starting: Promise<void> | undefined

  constructor(
    private readonly options: ResolvedChanges,
    private readonly host: FollowerHost,
  ) {
    this.lease = new FollowerLease(host.redis, host.keys, options.leaseTimeoutMs)
  }

  start(): void {
    // Loaded now, so a missing package is reported at start, by every instance.
    loadReplication().catch((error: unknown) => this.host.report(new ChangesError((error as Error).message, error)))
    void this.checkStatus()
    this.statusTimer = setInterval(() => void this.checkStatus(), STATUS_INTERVAL_MS)
    this.statusTimer.unref()
    const every = Math.max(20, Math.floor(this.options.leaseTimeoutMs / 4))
    this.timer = setInterval(() => this.tick(), every)
    this.timer.unref()
    this.tick()
  }

  /** The models a change to `schema.table` can reach (none for a table no model maps: Prisma reads nothing from it). */
  modelsOf(schema: string, table: string): readonly string[] {
    return this.tables.reach.get(tableKey(schema, table)) ?? []
  }

  rowRequests(
    schema: string,
    table: string,
    message: Record<string, unknown>,
  ): { model: string; requests: string[] } | undefined {
    const own = this.tables.own.get(tableKey(schema, table))
    // Two models on one name (names that differ in case only): which one the row belongs to is not known.
    if (own?.length !== 1) return undefined
    const info = own[0] as ModelInfo
    if (!this.host.followsRows(info.name)) return undefined
    const requests = rowRequestsOf(info, message)
    return requests && { model: info.name, requests }
  }

  namesFor(models: Set<string>, predicates: Set<string>): string[] {
    const sorted = [...models].sort()
    return this.host.namesFor(sorted, sorted, [...predicates].sort())
  }

  async bump(names: readonly string[]): Promise<void> {
    this.counters.bumps++
    await this.host.bump(names)
  }

  owes(names: readonly string[]): boolean {
    return this.host.owes(names)
  }

  status(): ChangesStatus {
    const session = this.session?.started && !this.session.ended ? this.session : undefined
    return {
      following: session !== undefined,
      lagBytes: this.lagBytes,
      lagMs: session?.lagMs(),
      ...this.counters,
    }
  }

  private tick(): void {
    if (this.ticking || this.closed) return
    this.ticking = this.step()
      .catch((error: unknown) => this.host.report(new ChangesError('following the change stream failed', error)))
      .finally(() => {
        this.ticking = undefined
      })
  }

  /** Takes or renews the lease; starts following when this instance holds it and does not follow yet. */
  private async step(): Promise<void> {
    if (!this.holding) {
      if (Date.now() < this.nextAttempt) return
      this.holding = await this.lease.acquire()
    } else {
      const renewal = await this.lease.renew()
      // Unknown (Redis away): keep following; nothing is acknowledged until bumps land anyway.
      if (renewal === 'lost') {
        this.holding = false
        await this.endSession()
        return
      }
    }
    // Not awaited: connecting may take longer than a renewal period, and the lease must not lapse meanwhile.
    if (this.holding && !this.session && !this.starting && !this.closed && Date.now() >= this.nextAttempt) {
      this.starting = this.follow().finally(() => {
        this.starting = undefined
      })
    }
  }

  /** Starts streaming the slot; a failure is reported, the lease given up, and the next attempt backs off. */
  private async follow(): Promise<void> {
    const { connectionString, slot, publication } = this.options
    let session: Session | undefined
    try {
      const [status, publishes] = await withClient(
        connectionString,
        async (client) => [await slotStatus(client, slot, publication), await published(client, publication)] as const,
      )
      const schema = defaultSchema(connectionString, status)
      const problem =
        statusProblem(status, slot, publication) ??
        publicationProblem(publishes, this.host.graph, this.host.views, schema, publication)
      if (problem) throw new ChangesError(`cannot follow changes: ${problem}`)
      this.tables = tablesBySchema(this.host.graph, schema)
      const { LogicalReplicationService, PgoutputPlugin } = await loadReplication()
      if (this.closed) return
      // No automatic acknowledgement: a position is confirmed only after its bumps landed (see Session).
      const service = new LogicalReplicationService(
        { connectionString },
        { acknowledge: { auto: false, timeoutSeconds: 0 } },
      )
      const current = new Session(service, this)
      session = current
      this.session = current
      service.on('start', () => {
        current.started = true
        this.backoffMs = 0
      })
      service.on('data', (_lsn, message) => {
        try {
          current.message(message)
        } catch (error) {
          this.fail(current, error)
        }
      })
      service.on('heartbeat', (lsn, _time, shouldRespond) => {
        try {
          current.heartbeat(lsn, shouldRespond)
        } catch (error) {
          this.fail(current, error)
        }
      })
      service.on('error', (error) => this.fail(current, error))
      const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] })
      // 0/0: from the slot's confirmed position (a later position would skip what was not acknowledged).
      service.subscribe(plugin, slot, '0/00000000').then(
        () => this.fail(current, new Error('the replication stream ended')),
        (error: unknown) => this.fail(current, error),
      )
    } catch (error) {
      if (session) this.fail(session, error)
      else this.failedToStart(error)
    }
  }

  /** A session ended by an error (or the server): reported, the lease given up so another may try. */
  fail(session: Session, error: unknown): void {
    if (session.ended || this.closed) return
    const wasStarted = session.started
    void this.endSession(session)
    if (wasStarted) this.host.report(new ChangesError('the change stream stopped; following it again', error))
    this.failedToStart(wasStarted ? undefined : error)
  }

  private failedToStart(error: unknown): void {
    if (error !== undefined) {
      const cause = error instanceof ChangesError ? error.cause : error
      const message =
        error instanceof ChangesError ? error.message : `cannot follow changes: ${(error as Error)?.message}`
      this.host.report(new ChangesError(message, cause))
    }
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(this.options.leaseTimeoutMs, this.backoffMs * 2))
    this.nextAttempt = Date.now() + (error === undefined ? 0 : this.backoffMs)
    if (this.holding) {
      this.holding = false
      void this.lease.release()
    }
  }

  private async endSession(session = this.session): Promise<void> {
    if (!session) return
    session.ended = true
    if (this.session === session) this.session = undefined
    session.service.removeAllListeners()
    session.service.on('error', () => {})
    // A connection that is already broken may never say it ended: closing must not wait on it.
    const stopped = session.service.stop().catch(() => undefined)
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())])
  }

  /** Measures the slot's lag and reports what is wrong with it: every instance, now and then. */
  private async checkStatus(): Promise<void> {
    const { connectionString, slot, publication } = this.options
    try {
      const status = await withClient(connectionString, (client) => slotStatus(client, slot, publication))
      this.lagBytes = status.slot?.lagBytes
      const problem = statusProblem(status, slot, publication)
      if (problem) this.host.report(new ChangesError(`cannot follow changes: ${problem}`))
      else if ((this.lagBytes ?? 0) > WARN_LAG_BYTES) {
        this.host.report(
          new ChangesError(
            `the replication slot "${slot}" holds ${this.lagBytes} bytes of WAL not yet followed${this.session ? '' : ' (no instance follows it)'}; see the README on bounding it (max_slot_wal_keep_size)`,
          ),
        )
      }
    } catch (error) {
      if (!this.closed) this.host.report(new ChangesError('could not check the replication slot', error))
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    clearInterval(this.statusTimer)
    await this.ticking
    await this.starting
    await this.endSession()
    if (this.holding) {
      this.holding = false
      await this.lease.release()
    }
  }
}
