// What counts as Redis failing: a command that runs out of the tier's timeout does, and is reported; one given only
// what was left of its read's budget (less than half the timeout: a lease wait's last probe, say) that runs out
// does not. Counted, such calls opened the circuit breaker on a healthy but busy Redis, and every read went to the
// database while it stayed open.
import { describe, expect, it } from 'vitest'
import { FAILED, RedisTier } from '../src/store/redis-tier'
import { FakeRedis } from './fake-redis'

// Large enough that a loaded machine's pause between computing a deadline and sending the call cannot move a budget
// across the half-timeout threshold.
const TIMEOUT = 400

/** A command Redis never answers. */
const unanswered = () => new Promise<never>(() => {})

describe('RedisTier timeouts', () => {
  it('a call cut short by its caller’s budget neither reports a failure nor moves the breaker', async () => {
    const reported: unknown[] = []
    const tier = new RedisTier(new FakeRedis(), TIMEOUT, (error) => reported.push(error))
    for (let i = 0; i < 6; i++) {
      expect(await tier.guard('GET', unanswered, performance.now() + TIMEOUT / 8, 'k')).toBe(FAILED)
    }
    expect(reported).toEqual([])
    expect(tier.available('k')).toBe(true)
  })

  it('a call given more than half the timeout that runs out is a failure, reported', async () => {
    const reported: unknown[] = []
    const tier = new RedisTier(new FakeRedis(), TIMEOUT, (error) => reported.push(error))
    expect(await tier.guard('GET', unanswered, performance.now() + 0.75 * TIMEOUT, 'k')).toBe(FAILED)
    expect(reported).toHaveLength(1)
  })

  it('a call given the whole timeout that runs out is a failure, reported', async () => {
    const reported: unknown[] = []
    const tier = new RedisTier(new FakeRedis(), TIMEOUT, (error) => reported.push(error))
    expect(await tier.guard('GET', unanswered, undefined, 'k')).toBe(FAILED)
    expect(reported).toHaveLength(1)
    expect(reported[0]).toMatchObject({
      code: 'E_REDIS_UNAVAILABLE',
      cause: { message: `timed out after ${TIMEOUT} ms` },
    })
  })
})
