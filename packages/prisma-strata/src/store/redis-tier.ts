/**
 * Every Redis command Strata sends goes through here: each is bounded by a timeout, and a circuit breaker skips
 * Redis while it keeps failing, then lets a call through now and then to notice it is back. A failure is never
 * thrown: the caller gets `FAILED` and answers from the database (DESIGN invariant 7).
 */
import { createHash } from 'node:crypto'
import { RedisUnavailableError } from '../errors'
import type { Reporter } from '../metrics/report'
import type { RedisClient } from './redis-client'

export type { RedisClient } from './redis-client'

/** Returned instead of a result when Redis failed, timed out or was skipped. */
export const FAILED: unique symbol = Symbol('strata.redis-failed')

const BREAKER_THRESHOLD = 3
const BREAKER_MIN_OPEN_MS = 500
const BREAKER_MAX_OPEN_MS = 10_000

export class RedisTier {
  private failures = 0
  private openUntil = 0
  private openFor = BREAKER_MIN_OPEN_MS
  private readonly shas = new Map<string, string>()

  constructor(
    readonly client: RedisClient,
    readonly timeoutMs: number,
    private readonly report: Reporter,
  ) {}

  /** The connection is ready again: close the breaker now instead of waiting for its next trial call. */
  recovered(): void {
    this.failures = 0
    this.openUntil = 0
    this.openFor = BREAKER_MIN_OPEN_MS
  }

  /** False while the breaker is open: callers skip Redis without waiting. */
  get available(): boolean {
    return this.openUntil <= Date.now()
  }

  /**
   * Runs one Redis command within `timeoutMs`, or within what is left of a call's budget when `deadline` (a
   * `performance.now()` time) is given: a read that needs several commands still waits on Redis for one
   * timeout at most in all. A spent budget skips Redis without counting a failure.
   */
  async guard<T>(operation: string, run: () => Promise<T>, deadline?: number): Promise<T | typeof FAILED> {
    if (!this.available) return FAILED
    const budget = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - performance.now())
    if (budget <= 0) return FAILED
    let timer: NodeJS.Timeout | undefined
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(budget)} ms`)), budget)
      })
      const command = run()
      // If the timeout wins, the command may still fail later (e.g. "Connection is closed"): nobody awaits it then.
      command.catch(() => undefined)
      const result = await Promise.race([command, timeout])
      this.failures = 0
      this.openFor = BREAKER_MIN_OPEN_MS
      return result
    } catch (error) {
      if (++this.failures >= BREAKER_THRESHOLD) {
        this.openUntil = Date.now() + this.openFor
        this.openFor = Math.min(this.openFor * 2, BREAKER_MAX_OPEN_MS)
      }
      this.report(new RedisUnavailableError(operation, error))
      return FAILED
    } finally {
      clearTimeout(timer)
    }
  }

  get(key: string, deadline?: number): Promise<Buffer | null | typeof FAILED> {
    return this.guard('GET', () => this.client.getBuffer(key), deadline)
  }

  set(key: string, value: Buffer, ttlMs: number): Promise<unknown> {
    return this.guard('SET', () => this.client.set(key, value, 'PX', Math.max(1, Math.floor(ttlMs))))
  }

  /**
   * EVALSHA, loading the script on NOSCRIPT (after a restart or a failover). `binary`: bulk replies come back as
   * Buffers (entry frames), not strings.
   */
  script(
    source: string,
    keys: string[],
    args: Array<string | Buffer>,
    deadline?: number,
    binary = false,
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
    )
  }
}
