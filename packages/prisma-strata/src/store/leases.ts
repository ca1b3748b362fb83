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
    const reply = await this.redis.guard(
      'SET NX',
      () => this.redis.client.set(this.keys.lease(query), token, 'PX', this.timeoutMs, 'NX'),
      deadline,
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

  release(query: string, token: string): Promise<unknown> {
    return this.redis.script(releaseLease, [this.keys.lease(query)], [token])
  }
}
