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
import type { RedisClient } from './redis-client'

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
    const reason = error ?? new Error(`timed out after ${Math.round(this.budget)} ms`)
    this.tier.failed(this.operation, this.breaker, this.open, this.started, reason)
    this.resolve(FAILED)
  }

  expire(): void {
    this.settle()
  }
}

export class RedisTier {
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

  get(key: string, deadline?: number): Promise<Buffer | null | typeof FAILED> {
    return this.guard('GET', () => this.client.getBuffer(key), deadline, key)
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
