/**
 * One connection streaming the slot (changes/follower.ts starts them): which models the transactions it received
 * touched, and which position it may confirm. Changes are gathered per transaction and bumped in batches, one batch
 * at a time; a batch's position is confirmed only once none of its names is owed to Redis (design invariant 14,
 * docs/design.md). A session that ends drops what it had not confirmed: the next one streams it again from the slot.
 */
import { formatLsn, parseLsn } from './lsn'
import type { ReplicationService } from './postgres'

/** What a session needs of the follower. */
export interface SessionHost {
  readonly counters: { transactions: number }
  /** The models a change to `schema.table` can reach. */
  modelsOf(schema: string, table: string): readonly string[]
  /**
   * The model of `schema.table` and the row requests of one change to it (the predicates its rows match), or
   * undefined when its rows are not known in full or its model has none.
   */
  rowRequests(
    schema: string,
    table: string,
    message: Record<string, unknown>,
  ): { model: string; requests: string[] } | undefined
  /** The version names changes to rows of `models` bump; every predicate of those in `predicates`. */
  namesFor(models: Set<string>, predicates: Set<string>): string[]
  bump(names: readonly string[]): Promise<void>
  /** Whether a bump of one of `names` is still owed to Redis. */
  owes(names: readonly string[]): boolean
  /** The session failed: end it and try again. */
  fail(session: Session, error: unknown): void
}

/** How often a bump owed to Redis is checked on before its position is acknowledged. */
const OWED_POLL_MS = 25

/** Past this many row requests in one batch, its models bump every predicate instead (one name each). */
const MAX_REQUESTS = 1000

/** What changes touch: models, those whose every predicate goes, and the predicates rows of the others match. */
interface Touched {
  models: Set<string>
  coarse: Set<string>
  requests: Map<string, string>
}

const nothingTouched = (): Touched => ({ models: new Set(), coarse: new Set(), requests: new Map() })

function merge(into: Touched, from: Touched): void {
  for (const model of from.models) into.models.add(model)
  for (const model of from.coarse) into.coarse.add(model)
  for (const [request, model] of from.requests) into.requests.set(request, model)
  if (into.requests.size > MAX_REQUESTS) {
    for (const model of into.requests.values()) into.coarse.add(model)
    into.requests.clear()
  }
}

/** Changes received and not yet bumped: what they touch and the position after them. */
interface Batch extends Touched {
  lsn: bigint
  /** Commit time (µs since 1970) of the oldest transaction in it. */
  since: bigint | undefined
}

const emptyBatch = (lsn: bigint): Batch => ({ ...nothingTouched(), lsn, since: undefined })

/** One connection streaming the slot: its own position and batch, dropped whole when the connection ends. */
export class Session {
  ended = false
  started = false
  /** Last position acknowledged (the slot's confirmed position, as far as this session knows). */
  confirmed = 0n
  private inTransaction = false
  private transaction = nothingTouched()
  private batch: Batch = emptyBatch(0n)
  private flushing: Promise<void> | undefined
  /** Commit time of the oldest transaction being bumped now. */
  private bumpingSince: bigint | undefined

  constructor(
    readonly service: ReplicationService,
    private readonly follower: SessionHost,
  ) {}

  /** One pgoutput message, in stream order (the service emits them synchronously, one by one). */
  message(message: Record<string, unknown>): void {
    switch (message.tag) {
      case 'begin':
        this.inTransaction = true
        this.transaction = nothingTouched()
        break
      case 'insert':
      case 'update':
      case 'delete':
        this.touch(message.relation, message)
        break
      case 'truncate':
        for (const relation of (message.relations as unknown[]) ?? []) this.touch(relation)
        break
      case 'commit': {
        this.inTransaction = false
        this.follower.counters.transactions++
        merge(this.batch, this.transaction)
        this.transaction = nothingTouched()
        const end = parseLsn(String(message.commitEndLsn))
        if (end > this.batch.lsn) this.batch.lsn = end
        this.batch.since ??= message.commitTime as bigint
        this.schedule()
        break
      }
    }
  }

  /** One changed row (a truncate: every row) of `relation`'s table. */
  private touch(relation: unknown, message?: Record<string, unknown>): void {
    const { schema, name } = (relation ?? {}) as { schema?: unknown; name?: unknown }
    const [inSchema, table] = [String(schema), String(name)]
    const own = message && this.follower.rowRequests(inSchema, table, message)
    const touched = this.transaction
    for (const model of this.follower.modelsOf(inSchema, table)) {
      touched.models.add(model)
      // What referential actions reach, and a model whose rows are not known, lose every predicate.
      if (model !== own?.model) touched.coarse.add(model)
    }
    if (own) for (const request of own.requests) touched.requests.set(request, own.model)
  }

  /**
   * A keepalive: the server has sent everything committed before `lsn`. Between transactions, that position is as
   * safe to acknowledge as the last commit once the batch before it is bumped (so the slot does not hold WAL that
   * other databases or unpublished tables write).
   */
  heartbeat(lsn: string, shouldRespond: boolean): void {
    if (!this.inTransaction) {
      const position = parseLsn(lsn)
      if (position > this.batch.lsn) this.batch.lsn = position
      this.schedule()
    }
    if (shouldRespond) this.acknowledge()
  }

  /** Bumps the batch received so far, one batch at a time, then acknowledges its position. */
  private schedule(): void {
    if (this.flushing || this.ended) return
    const batch = this.batch
    if (batch.models.size === 0 && batch.lsn <= this.confirmed) return
    this.batch = emptyBatch(batch.lsn)
    this.bumpingSince = batch.since
    this.flushing = this.flush(batch)
      .catch((error: unknown) => this.follower.fail(this, error))
      .finally(() => {
        this.flushing = undefined
        this.bumpingSince = undefined
        this.schedule()
      })
  }

  private async flush(batch: Batch): Promise<void> {
    if (batch.models.size > 0) {
      const requests = [...batch.requests].filter(([, model]) => !batch.coarse.has(model)).map(([request]) => request)
      const names = [...this.follower.namesFor(batch.models, batch.coarse), ...requests]
      await this.follower.bump(names)
      // A bump Redis did not take is owed and retried by the engine: the position waits for it. If this session
      // ends first, its changes are not acknowledged and the next follower replays them from the slot.
      while (this.follower.owes(names)) {
        if (this.ended) return
        await new Promise((resolve) => setTimeout(resolve, OWED_POLL_MS))
      }
    }
    if (this.ended || batch.lsn <= this.confirmed) return
    this.confirmed = batch.lsn
    this.acknowledge()
  }

  /**
   * Reports the confirmed position. The service sends what it is given plus one; PostgreSQL skips, when a slot is
   * streamed again, every transaction whose commit record starts before the confirmed position, and the next
   * commit record may start exactly where this one ends: so what is sent is the position itself.
   */
  private acknowledge(): void {
    if (this.ended || this.confirmed === 0n) return
    void this.service.acknowledge(formatLsn(this.confirmed - 1n)).catch(() => undefined)
  }

  /** Milliseconds since the oldest commit received and not acknowledged; 0 when caught up. */
  lagMs(): number {
    const since = this.bumpingSince ?? this.batch.since
    if (since === undefined) return 0
    return Math.max(0, Date.now() - Number(since / 1000n))
  }
}
