/**
 * Which instance of a prefix follows the change stream: the one holding this lease in Redis (`SET NX PX`, renewed
 * while it follows). An instance that dies stops renewing, and another takes the lease within its timeout.
 * PostgreSQL itself lets one connection at a time stream a slot, so two holders (a Redis that lost the key) cannot
 * both follow; the lease only keeps the others from knocking.
 */
import { randomUUID } from 'node:crypto'
import type { KeySpace } from '../store/keys'
import { FAILED, type RedisTier } from '../store/redis-tier'
import { releaseLease, renewLease } from '../store/scripts'

/** What a renewal found: still ours, taken by another (or expired and gone), or Redis did not answer. */
export type Renewal = 'held' | 'lost' | 'unknown'

export class FollowerLease {
  private readonly token = randomUUID()

  constructor(
    private readonly redis: RedisTier,
    private readonly keys: KeySpace,
    private readonly timeoutMs: number,
  ) {}

  /** Whether this instance holds the lease now (it took it, or already held it). */
  async acquire(): Promise<boolean> {
    const key = this.keys.follower
    const reply = await this.redis.guard(
      'SET NX',
      () => this.redis.client.set(key, this.token, 'PX', this.timeoutMs, 'NX'),
      undefined,
      key,
    )
    if (reply === 'OK') return true
    if (reply === FAILED) return false
    return (await this.renew()) === 'held'
  }

  /** Extends the lease if it is still this instance's; one that expired unseen is taken again when free. */
  async renew(): Promise<Renewal> {
    const reply = await this.redis.script(renewLease, [this.keys.follower], [this.token, String(this.timeoutMs)])
    if (reply === FAILED) return 'unknown'
    if (reply === 1) return 'held'
    // Gone (expired while Redis was away, or a Redis restarted empty): ours again if nobody took it meanwhile.
    const key = this.keys.follower
    const taken = await this.redis.guard(
      'SET NX',
      () => this.redis.client.set(key, this.token, 'PX', this.timeoutMs, 'NX'),
      undefined,
      key,
    )
    if (taken === 'OK') return 'held'
    return taken === FAILED ? 'unknown' : 'lost'
  }

  /** Gives the lease up at once (closing), so another instance takes over without waiting for it to expire. */
  release(): Promise<unknown> {
    return this.redis.script(releaseLease, [this.keys.follower], [this.token])
  }
}
