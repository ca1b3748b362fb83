/**
 * Leases against stampedes across instances: on a miss, one instance takes the lease (`SET NX PX`) and fills;
 * the others wait a little for its entry instead of all querying the database. A holder that dies blocks no one
 * past the lease timeout, and a fill that a write overtook is refused (see `leaseAllowsFill`).
 */
import { randomUUID } from 'node:crypto'
import type { KeySpace } from './keys'
import { FAILED, type RedisTier } from './redis-tier'
import { leaseAllowsFill, releaseLease } from './scripts'

/** Another instance holds the lease: wait for its fill. */
export const HELD_ELSEWHERE: unique symbol = Symbol('strata.lease-held-elsewhere')

/** Returned by a `waitFor` probe: the fill will not come (a write moved on, Redis is away); stop waiting. */
export const STOP: unique symbol = Symbol('strata.lease-stop-waiting')

export class Leases {
  constructor(
    private readonly redis: RedisTier,
    private readonly keys: KeySpace,
    readonly timeoutMs: number,
    readonly waitMs: number,
  ) {}

  /** A token if this instance now holds the lease; `HELD_ELSEWHERE`; or undefined when Redis did not answer. */
  async acquire(query: string, deadline?: number): Promise<string | typeof HELD_ELSEWHERE | undefined> {
    const token = randomUUID()
    const key = this.keys.lease(query)
    const reply = await this.redis.guard(
      'SET NX',
      () => this.redis.client.set(key, token, 'PX', this.timeoutMs, 'NX'),
      deadline,
      key,
    )
    if (reply === FAILED) return undefined
    return reply === 'OK' ? token : HELD_ELSEWHERE
  }

  /** Whether the holder may store its fill: the lease is still its own and `versions` are still current. */
  async allowsFill(query: string, token: string, deps: readonly string[], versions: readonly number[]) {
    const reply = await this.redis.script(
      leaseAllowsFill,
      [this.keys.lease(query), ...deps.map((d) => this.keys.version(d))],
      [token, ...versions.map(String)],
    )
    return reply === 1
  }

  /**
   * Polls `probe` for the lease holder's fill until it returns one, or `STOP`, or `waitMs` has passed: a configured
   * choice to wait for another instance's fill rather than query the database too. `until`: the probe's deadline.
   * `STOP` when a probe said the fill will not come (Redis failed: reported there); `undefined` when the wait ran out.
   */
  async waitFor<T>(
    probe: (until: number) => Promise<T | undefined | typeof STOP>,
  ): Promise<T | undefined | typeof STOP> {
    const until = performance.now() + this.waitMs
    const step = Math.max(2, Math.min(20, this.waitMs / 10))
    while (performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, step))
      const found = await probe(until)
      if (found !== undefined) return found
    }
    return undefined
  }

  release(query: string, token: string): Promise<unknown> {
    return this.redis.script(releaseLease, [this.keys.lease(query)], [token])
  }
}
