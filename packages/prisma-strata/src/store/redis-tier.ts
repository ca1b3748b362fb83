/**
 * Every Redis command Strata sends goes through here: each is bounded by a timeout, and a circuit breaker per node
 * skips a node while it keeps failing, then lets a call through now and then to notice it is back. A failure is
 * never thrown: the caller gets `FAILED` and answers from the database (design invariant 7, docs/design.md).
 */
import { createHash } from 'node:crypto'
import calculateSlot from 'cluster-key-slot'
import { RedisUnavailableError } from '../errors'
import type { ReportError } from '../observe/reporter'
import { Breaker } from './breaker'
import { Deadlines, type Expiring } from './deadlines'
import { isCluster, type RedisClient } from './redis-client'

export type { RedisClient } from './redis-client'

/** Returned instead of a result when Redis failed, timed out or was skipped. */
export const FAILED: unique symbol = Symbol('strata.redis-failed')

/** How a script call is made. */
export interface ScriptOptions {
  /** When the call stops waiting (`performance.now()`); default: the tier's timeout from now. */
  deadline?: number
  binary?: boolean
  urgent?: boolean
}

/** What a skipped or failed command resolves to; one promise for every skip, as none is ever mutated. */
const SKIPPED: Promise<typeof FAILED> = Promise.resolve(FAILED)

/** One guarded command under way: settled once, by its answer, its failure or its deadline. */
class GuardedCall<T> implements Expiring {
  readonly deadline: number
  settled = false

  constructor(
    private readonly tier: RedisTier,
    private readonly operation: string,
    private readonly breaker: Breaker,
    private readonly open: boolean,
    private readonly started: number,
    private readonly budget: number,
    private readonly resolve: (value: T | typeof FAILED) => void,
  ) {
    this.deadline = started + budget
  }

  answered(value: T): void {
    if (this.settled) return
    this.settled = true
    this.tier.deadlines.settled(this)
    this.breaker.succeeded()
    this.resolve(value)
  }

  /** Failed, or (no error) the deadline passed; if the command answers after that, nobody is waiting for it. */
  settle(error?: unknown): void {
    if (this.settled) return
    this.settled = true
    this.tier.deadlines.settled(this)
    // A call given less than half the timeout (what was left of its read's budget, a lease wait's last probe) that
    // runs out says nothing about Redis: not a failure for the breaker, nor one to report.
    if (error !== undefined || this.budget >= this.tier.timeoutMs / 2) {
      const reason = error ?? new Error(`timed out after ${Math.round(this.budget)} ms`)
      this.tier.failed(this.operation, this.breaker, this.open, this.started, reason)
    }
    this.resolve(FAILED)
  }

  expire(): void {
    this.settle()
  }
}

/** A SET no caller waits for (a fill): its value is made when it goes out; undefined sends nothing. */
interface PendingSet {
  key: string
  make: () => { value: Buffer; ttlMs: number } | undefined
  done: (reply: unknown) => void
}

/** The socket under an ioredis client: corked, the commands issued meanwhile go out in one write. */
function corkable(client: RedisClient): { cork(): void; uncork(): void } | undefined {
  const stream = (client as { stream?: { cork?: unknown; uncork?: unknown } }).stream
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as { cork(): void; uncork(): void })
    : undefined
}

export class RedisTier {
  /** Fills waiting to go out: with this process's next GET, or at the end of the turn (see `setSoon`). */
  private pending: PendingSet[] = []

  /** One breaker per node (a standalone Redis is one node): a Cluster node that fails skips that node alone. */
  private readonly breakers = new Map<string, Breaker>()
  private readonly shas = new Map<string, string>()
  /** The deadlines of the commands under way. */
  readonly deadlines = new Deadlines()

  constructor(
    readonly client: RedisClient,
    readonly timeoutMs: number,
    private readonly report: ReportError,
  ) {}

  /** The breaker of a standalone Redis (its one node), and on a Cluster of calls that name no key or known node. */
  private readonly standalone = new Breaker()

  /** The connection is ready again: close the breakers now instead of waiting for their next trial call. */
  recovered(): void {
    this.standalone.reset()
    for (const breaker of this.breakers.values()) breaker.reset()
  }

  /** Whether keys spread over the nodes of a Redis Cluster: one script may then only touch keys of one slot. */
  get isCluster(): boolean {
    return isCluster(this.client)
  }

  /** The breaker of the node that serves `key` (the node is looked up in the Cluster's slot table). */
  private breaker(key: string | undefined): Breaker {
    const cluster = this.client as unknown as { isCluster?: boolean; slots: string[][] }
    if (key === undefined || !cluster.isCluster) return this.standalone
    const node = cluster.slots[calculateSlot(key)]?.[0]
    if (node === undefined) return this.standalone
    let breaker = this.breakers.get(node)
    if (!breaker) {
      breaker = new Breaker()
      this.breakers.set(node, breaker)
    }
    return breaker
  }

  /** False while the breaker of the node serving `key` is open: callers skip Redis without waiting. */
  available(key?: string): boolean {
    return this.breaker(key).available
  }

  /**
   * Runs one Redis command on the node serving `key` within `timeoutMs`, or within what is left of a call's budget
   * when `deadline` (a `performance.now()` time) is given: a read that needs several commands still waits on Redis
   * for one timeout at most in all. A spent budget skips Redis without counting a failure. `urgent` calls (owed
   * bumps) go out even while the breaker is open: other instances stay stale until they land.
   */
  guard<T>(
    operation: string,
    run: () => Promise<T>,
    deadline?: number,
    key?: string,
    urgent = false,
  ): Promise<T | typeof FAILED> {
    const breaker = this.breaker(key)
    const open = !breaker.available
    if (open && !urgent) return SKIPPED
    const started = performance.now()
    const budget = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - started)
    if (budget <= 0) return SKIPPED
    let command: Promise<T>
    try {
      command = run()
    } catch (error) {
      this.failed(operation, breaker, open, started, error)
      return SKIPPED
    }
    // No async function, race or timer of its own: this runs on every Redis hit (see deadlines.ts).
    return new Promise((resolve) => {
      const call = new GuardedCall(this, operation, breaker, open, started, budget, resolve)
      this.deadlines.add(call)
      command.then(
        (value) => call.answered(value),
        (error) => call.settle(error),
      )
    })
  }

  /** A command failed or timed out. */
  failed(operation: string, breaker: Breaker, open: boolean, started: number, error: unknown): void {
    // An urgent call through an open breaker retries a failure already counted and reported: it must not
    // stretch the breaker's backoff either.
    if (open) return
    breaker.failed(started)
    this.report(new RedisUnavailableError(operation, error))
  }

  /**
   * Whether fills can wait for this process's next GET: a standalone server, whose one connection keeps the order
   * commands were sent in (a Cluster spreads keys over nodes). A fill passed to `setSoon` then reaches Redis before
   * any GET this process sends later. A versions script sent in the same turn may still pass it: a read that knew
   * no versions then queries once more, and stores the same entry (never a stale one: versions decide).
   */
  get pipelines(): boolean {
    return !this.isCluster
  }

  get(key: string, deadline?: number): Promise<Buffer | null | typeof FAILED> {
    if (this.pending.length === 0 || !this.pipelines) {
      return this.guard('GET', () => this.client.getBuffer(key), deadline, key)
    }
    return this.getWithSets(key, deadline)
  }

  /** A GET that fills waiting to go out ride along: one write, one round trip, instead of two. */
  private getWithSets(key: string, deadline?: number): Promise<Buffer | null | typeof FAILED> {
    const sets = this.pending.splice(0)
    let sent = false
    const reply = this.guard(
      'GET',
      () => {
        sent = true
        return this.sendSets(sets, (client) => client.getBuffer(key)) as Promise<Buffer | null>
      },
      deadline,
      key,
    )
    if (!sent) this.flushSets(sets)
    return reply
  }

  /**
   * A SET that no caller waits for (a fill): `make` gives its value when it goes out, with the next GET this process
   * sends (one write for both) or at the end of this turn, whichever comes first. Resolves once Redis answered,
   * or the SET failed (reported like any other).
   */
  setSoon(key: string, make: PendingSet['make']): Promise<unknown> {
    return new Promise((done) => {
      if (this.pending.length === 0) setImmediate(() => this.flushSets(this.pending.splice(0)))
      this.pending.push({ key, make, done })
    })
  }

  /** Sends the fills waiting for a GET now, on their own (in one write where the connection lets us). */
  sendWaiting(): void {
    this.flushSets(this.pending.splice(0))
  }

  /** Sends `sets`, taken from the waiting fills, without a GET (in one write where the connection lets us). */
  private flushSets(sets: PendingSet[]): void {
    if (sets.length === 0) return
    if (!this.pipelines) {
      // On a Cluster each SET goes to its key's node, behind that node's breaker.
      for (const { key, make, done } of sets) {
        const made = make()
        if (made) void this.set(key, made.value, made.ttlMs).then(done)
        else done(undefined)
      }
      return
    }
    let sent = false
    void this.guard(
      'SET',
      () => {
        sent = true
        return this.sendSets(sets)
      },
      undefined,
      sets[0]?.key,
    ).then(() => {
      if (!sent) for (const { done } of sets) done(FAILED)
    })
  }

  /**
   * The SETs of `sets` (each told its reply), then `last`'s command, whose reply is returned, written to the
   * connection in one go. Plain commands on a corked socket rather than a `pipeline()`: the same single write, for
   * half the client-side work of a pipeline object (measured by packages/bench/src/probe/miss-cpu.ts). A SET that
   * failed rejects when nothing follows it, else it is reported and `last`'s reply still returned.
   */
  private sendSets<T>(sets: PendingSet[], last?: (client: RedisClient) => Promise<T>): Promise<T | undefined> {
    const stream = corkable(this.client)
    stream?.cork()
    const replies: Array<Promise<unknown>> = []
    let reply: Promise<T> | undefined
    try {
      for (const set of sets) {
        const value = set.make()
        if (value === undefined) {
          set.done(undefined)
          continue
        }
        const ttl = Math.max(1, Math.floor(value.ttlMs))
        const answered = this.client.set(set.key, value.value, 'PX', ttl).then(
          (ok) => set.done(ok),
          (error) => {
            set.done(FAILED)
            if (last) this.report(new RedisUnavailableError('SET', error))
            throw error
          },
        )
        replies.push(answered)
        // The error reaches `guard` through `Promise.all` below, or is reported above when a command follows.
        if (last) answered.catch(() => {})
      }
      reply = last?.(this.client)
    } finally {
      stream?.uncork()
    }
    return reply ?? Promise.all(replies).then(() => undefined)
  }

  set(key: string, value: Buffer, ttlMs: number): Promise<unknown> {
    return this.guard('SET', () => this.client.set(key, value, 'PX', Math.max(1, Math.floor(ttlMs))), undefined, key)
  }

  /**
   * EVALSHA, loading the script on NOSCRIPT (after a restart or a failover). `binary`: bulk replies come back as
   * Buffers (entry frames), not strings; `urgent`: see `guard`.
   */
  script(
    source: string,
    keys: string[],
    args: Array<string | Buffer>,
    { deadline, binary = false, urgent = false }: ScriptOptions = {},
  ): Promise<unknown | typeof FAILED> {
    let sha = this.shas.get(source)
    if (!sha) {
      sha = createHash('sha1').update(source).digest('hex')
      this.shas.set(source, sha)
    }
    const digest = sha
    return this.guard(
      'EVALSHA',
      async () => {
        try {
          if (binary) return await this.client.callBuffer('EVALSHA', digest, keys.length, ...keys, ...args)
          return await this.client.evalsha(digest, keys.length, ...keys, ...args)
        } catch (error) {
          if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
          if (binary) return await this.client.callBuffer('EVAL', source, keys.length, ...keys, ...args)
          return await this.client.eval(source, keys.length, ...keys, ...args)
        }
      },
      deadline,
      keys[0],
      urgent,
    )
  }

  /** PUBLISH, which Redis accepts even when it is out of memory. */
  publish(channel: string, message: string, urgent = false): Promise<unknown> {
    return this.guard('PUBLISH', () => this.client.publish(channel, message), undefined, undefined, urgent)
  }
}
