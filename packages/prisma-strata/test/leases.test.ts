// Leases against stampedes, on fake timers: one instance fills a missing entry while the others wait for it, a
// holder that dies blocks no one past the lease timeout, and an unanswering Redis costs a read no more than its
// timeout. Redis is test/fake-redis.ts behind the real RedisTier; two tiers on one fake server are two instances.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { resolveOptions } from '../src/options'
import { keySpace } from '../src/store/keys'
import { HELD_ELSEWHERE, Leases, STOP } from '../src/store/leases'
import { RedisTier } from '../src/store/redis-tier'
import { FakeRedis } from './fake-redis'

const keys = keySpace('lt')
const options = resolveOptions({ lease: true })
const lease = options.lease as { timeout: number; wait: number }
const V = 1_700_000_000_000_000

/** An instance: its own connection, to the server of `peer` when given (another instance), else a new one. */
function instance(peer?: { client: FakeRedis }, wait = lease.wait) {
  const client = peer ? peer.client.duplicate() : new FakeRedis()
  const redis = new RedisTier(client, options.redisTimeout, () => undefined)
  return { client, leases: new Leases(redis, keys, lease.timeout, wait) }
}

/** Whether `promise` settles without fake time passing (its promise chain given plenty of microtask turns). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => {
    done = true
  })
  for (let i = 0; i < 100 && !done; i++) await Promise.resolve()
  return done
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('acquire and release', () => {
  it('one instance holds the lease; the others are told so until it releases', async () => {
    const a = instance()
    const b = instance(a)
    const token = await a.leases.acquire('q')
    expect(typeof token).toBe('string')
    expect(await b.leases.acquire('q')).toBe(HELD_ELSEWHERE)
    expect(await a.leases.acquire('q')).toBe(HELD_ELSEWHERE) // not reentrant: a second fill would be a second query
    expect(typeof (await b.leases.acquire('other query'))).toBe('string')
    await a.leases.release('q', token as string)
    expect(typeof (await b.leases.acquire('q'))).toBe('string')
  })

  it('a holder that dies blocks no one past the lease timeout', async () => {
    const a = instance()
    const b = instance(a)
    await a.leases.acquire('q')
    vi.advanceTimersByTime(lease.timeout - 1)
    expect(await b.leases.acquire('q')).toBe(HELD_ELSEWHERE)
    vi.advanceTimersByTime(1)
    expect(typeof (await b.leases.acquire('q'))).toBe('string')
  })

  it("a release after the lease expired does not free the next holder's lease", async () => {
    const a = instance()
    const b = instance(a)
    const c = instance(a)
    const late = await a.leases.acquire('q')
    vi.advanceTimersByTime(lease.timeout)
    await b.leases.acquire('q')
    await a.leases.release('q', late as string)
    expect(await c.leases.acquire('q')).toBe(HELD_ELSEWHERE)
  })
})

describe('allowsFill', () => {
  it('lets the holder store its fill only while the lease is its own and no write bumped what it read', async () => {
    const a = instance()
    const b = instance(a)
    const server = a.client.server
    server.write(keys.version('m:User'), String(V))
    const token = (await a.leases.acquire('q')) as string
    expect(await a.leases.allowsFill('q', token, ['m:User'], [V])).toBe(true)
    server.write(keys.version('m:User'), String(V + 1)) // a write elsewhere while the query ran
    expect(await a.leases.allowsFill('q', token, ['m:User'], [V])).toBe(false)
    expect(await a.leases.allowsFill('q', token, ['m:User'], [V + 1])).toBe(true)
    a.client.health = 'down' // Redis cannot say: the fill is not stored
    expect(await a.leases.allowsFill('q', token, ['m:User'], [V + 1])).toBe(false)
    a.client.health = 'up'
    vi.advanceTimersByTime(lease.timeout)
    await b.leases.acquire('q') // the lease passed on: the other instance fills now
    expect(await a.leases.allowsFill('q', token, ['m:User'], [V + 1])).toBe(false)
  })
})

describe('when Redis does not answer', () => {
  it('acquire gives up after the Redis timeout, or sooner when the read has less budget left, with no lease', async () => {
    const a = instance()
    a.client.health = 'hang'
    const waiting = a.leases.acquire('q')
    await vi.advanceTimersByTimeAsync(options.redisTimeout - 1)
    expect(await settled(waiting)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await waiting).toBeUndefined()

    const budget = 50
    const short = a.leases.acquire('q2', performance.now() + budget)
    await vi.advanceTimersByTimeAsync(budget - 1)
    expect(await settled(short)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await short).toBeUndefined()
  })

  it('acquire answers at once, with no lease, when the connection is down', async () => {
    const a = instance()
    a.client.health = 'down'
    const answer = a.leases.acquire('q')
    expect(await settled(answer)).toBe(true)
    expect(await answer).toBeUndefined()
  })
})

describe('waitFor', () => {
  it("returns the holder's fill as soon as a probe finds it", async () => {
    const a = instance()
    let probes = 0
    const waiting = a.leases.waitFor(async () => (++probes === 3 ? 'filled' : undefined))
    await vi.advanceTimersByTimeAsync(lease.wait)
    expect(await waiting).toBe('filled')
    expect(probes).toBe(3)
  })

  it('stops at the first probe that says the fill will not come', async () => {
    const a = instance()
    let probes = 0
    const waiting = a.leases.waitFor(async () => {
      probes++
      return STOP
    })
    await vi.advanceTimersByTimeAsync(lease.wait)
    expect(await waiting).toBe(STOP)
    expect(probes).toBe(1)
  })

  it('gives up after the configured wait, polling a bounded number of times, each probe told when to give up', async () => {
    for (const wait of [lease.wait, 1000]) {
      const a = instance(undefined, wait)
      const untils: number[] = []
      const started = performance.now()
      const waiting = a.leases.waitFor(async (until) => {
        untils.push(until)
        return undefined
      })
      const step = Math.min(20, wait / 10) // the poll interval
      await vi.advanceTimersByTimeAsync(wait - step)
      expect(await settled(waiting)).toBe(false)
      await vi.advanceTimersByTimeAsync(2 * step)
      expect(await waiting).toBeUndefined()
      expect(untils.length).toBeLessThanOrEqual(wait / step + 1)
      expect(new Set(untils)).toEqual(new Set([started + wait]))
    }
  })
})
