// What this process knows of versions, on fake timers: when it may answer a hit check without Redis, when it must
// ask Redis, and how a bump that could not reach Redis still lands. Redis is test/fake-redis.ts behind the real
// RedisTier (its timeout and circuit breaker included); test/faults.test.ts covers the same against a real Redis.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Stats } from '../src/observe/stats'
import { keySpace, predicateVersionName, valueHash } from '../src/store/keys'
import { RedisTier } from '../src/store/redis-tier'
import { bumpVersions, readVersions } from '../src/store/scripts'
import { BUMP_CHUNK, MAX_KNOWN, Versions } from '../src/store/versions'
import { FakeRedis } from './fake-redis'

const keys = keySpace('vt')
const REDIS_TIMEOUT = 200 // the `redisTimeout` default

function withRedis() {
  const client = new FakeRedis()
  const errors: unknown[] = []
  const redis = new RedisTier(client, REDIS_TIMEOUT, (error) => errors.push(error))
  const versions = new Versions(redis, keys, 'me', new Stats())
  return { client, versions, errors }
}

/** A snapshot, sent as it is at the end of the turn (TurnBatch waits for setImmediate). */
async function snapshot(versions: Versions, deps: string[]) {
  const answer = versions.snapshot(deps)
  await vi.advanceTimersByTimeAsync(0)
  return answer
}

/** The version the fake server holds for `name`, or undefined. */
const held = (client: FakeRedis, name: string) => {
  const value = client.server.read(keys.version(name))
  return value === undefined ? undefined : Number(value)
}

let open: Versions[] = []
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  for (const versions of open) versions.close()
  open = []
  vi.useRealTimers()
})
const track = <T extends { versions: Versions }>(made: T): T => {
  open.push(made.versions)
  return made
}

describe('a bump that could not reach Redis', () => {
  it('is retried every 50 ms, also while the breaker is open, and reads do not use Redis until it lands', async () => {
    const { client, versions } = track(withRedis())
    versions.trust()
    const [before] = (await snapshot(versions, ['m:User'])) as number[]
    client.health = 'down'
    await versions.bump(['m:User'])
    const attempts = () => client.scriptCalls(bumpVersions)
    expect(attempts()).toBe(1)
    await vi.advanceTimersByTimeAsync(49)
    expect(attempts()).toBe(1)
    // 1 s of an unreachable Redis: the breaker opens after 3 failures, the owed bump goes out regardless.
    await vi.advanceTimersByTimeAsync(951)
    expect(attempts()).toBe(1 + 20)
    const reads = client.scriptCalls(readVersions)
    expect(versions.peek(['m:User'])).toBeUndefined()
    expect(await snapshot(versions, ['m:User'])).toBeUndefined() // Redis holds the version from before the write
    expect(client.scriptCalls(readVersions)).toBe(reads)

    client.health = 'up'
    const sent = attempts()
    await vi.advanceTimersByTimeAsync(50)
    expect(client.server.bumps).toEqual([[keys.version('m:User')]])
    const after = held(client, 'm:User') as number
    expect(after).toBeGreaterThan(before as number)
    // Other instances hear it: the bump script published the new version.
    expect(client.server.published.at(-1)?.message).toBe(`me m:User ${after}`)
    expect(await snapshot(versions, ['m:User'])).toEqual([after])
    // Landed: nothing is sent again, and no timer is left running.
    const landed = attempts()
    expect(landed - sent).toBeLessThanOrEqual(2) // the tick, and at most the snapshot's own flush
    await vi.advanceTimersByTimeAsync(5000)
    expect(attempts()).toBe(landed)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stays owed when a later write fails to bump it while a retry is on its way', async () => {
    const { client, versions } = track(withRedis())
    versions.trust()
    client.health = 'down'
    await versions.bump(['m:User'])
    // The retry goes out to a slow Redis and waits there.
    client.health = 'slow'
    await vi.advanceTimersByTimeAsync(50)
    // Meanwhile another write's bump of the same name fails: that write may have committed after the retry's bump.
    client.health = 'down'
    await versions.bump(['m:User'])
    client.resume()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.server.bumps).toHaveLength(1) // the retry landed
    await vi.advanceTimersByTimeAsync(50)
    // The later write's bump is still owed, and goes out on the next retry.
    expect(client.server.bumps).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(5000)
    expect(client.server.bumps).toHaveLength(2)
  })

  it('is retried even if this process never reads again (a write-only job)', async () => {
    const { client, versions } = track(withRedis())
    client.health = 'hang' // a stalled Redis: the call waits out the timeout
    const bump = versions.bump(['m:Job'])
    await vi.advanceTimersByTimeAsync(REDIS_TIMEOUT)
    await bump
    expect(client.server.bumps).toEqual([])
    client.health = 'up'
    await vi.advanceTimersByTimeAsync(50)
    expect(client.server.bumps).toEqual([[keys.version('m:Job')]])
  })

  it('that failed part way resends only the names Redis did not take', async () => {
    const { client, versions } = track(withRedis())
    const names = Array.from({ length: 2 * BUMP_CHUNK + 200 }, (_, i) => `m:M${i}`)
    let bumpCalls = 0
    client.beforeCall = (call) => {
      if (call.startsWith('EVALSHA') && client.scriptCalls(bumpVersions) > bumpCalls) {
        bumpCalls = client.scriptCalls(bumpVersions)
        if (bumpCalls === 3) client.health = 'down'
      }
    }
    await versions.bump(names)
    expect(client.server.bumps.map((k) => k.length)).toEqual([BUMP_CHUNK, BUMP_CHUNK])
    client.beforeCall = undefined
    client.health = 'up'
    await vi.advanceTimersByTimeAsync(50)
    expect(client.server.bumps.length).toBe(3)
    expect(client.server.bumps[2]).toEqual(names.slice(2 * BUMP_CHUNK).map((n) => keys.version(n)))
    await vi.advanceTimersByTimeAsync(1000)
    expect(client.server.bumps.length).toBe(3)
  })
})

describe('trust', () => {
  it('until the bus is up, every read asks Redis and no hit check passes', async () => {
    const { client, versions } = track(withRedis())
    const [v] = (await snapshot(versions, ['m:User'])) as number[]
    expect(await snapshot(versions, ['m:User'])).toEqual([v])
    expect(client.scriptCalls(readVersions)).toBe(2)
    expect(versions.matches(['m:User'], [v as number])).toBe(false)
  })

  it('while the bus is up, a version read once answers hit checks without Redis; a drop forgets it', async () => {
    const { client, versions } = track(withRedis())
    versions.trust()
    const [v] = (await snapshot(versions, ['m:User'])) as number[]
    expect(versions.matches(['m:User'], [v as number])).toBe(true)
    expect(await snapshot(versions, ['m:User'])).toEqual([v])
    expect(client.scriptCalls(readVersions)).toBe(1)

    versions.distrust() // the bus dropped: a bump elsewhere may be unheard
    expect(versions.matches(['m:User'], [v as number])).toBe(false)
    expect(versions.peek(['m:User'])).toBeUndefined()
    await snapshot(versions, ['m:User'])
    expect(client.scriptCalls(readVersions)).toBe(2)
  })

  it('a Redis answer that was on its way while the bus dropped is used once, never kept', async () => {
    const { client, versions } = track(withRedis())
    versions.trust()
    client.health = 'slow'
    const answer = versions.snapshot(['m:User'])
    await vi.advanceTimersByTimeAsync(0)
    versions.distrust()
    versions.trust() // back up: a bump may have been missed in between, so the old answer proves nothing
    client.resume()
    expect(await answer).toEqual([held(client, 'm:User')])
    expect(versions.peek(['m:User'])).toBeUndefined()
  })

  it('a predicate bumped while its version was on its way from Redis: the bus message, heard first, wins', async () => {
    // The bus has a connection of its own: a bump made in Redis just after a read's script can be heard before the
    // script's reply arrives. The reply's older version must not be kept (it would answer hit checks until the
    // predicate's next bump, and an entry filled before the write would be served).
    const { client, versions } = track(withRedis())
    versions.trust()
    const name = predicateVersionName('Post', 'authorId', [valueHash('i5')])
    const other = predicateVersionName('Post', 'authorId', [valueHash('i6')])
    const [before] = (await snapshot(versions, ['m:Post'])) as number[]
    client.health = 'slow' // the script has run in Redis; its reply is on its way
    const answer = versions.snapshot([name, other])
    await vi.advanceTimersByTimeAsync(0)
    const held = (before as number) + 1000
    versions.apply([name], [held]) // the bump's message arrives first
    client.resume()
    const [got, untouched] = (await answer) as number[]
    expect(got).toBe(held)
    expect(versions.peek([name])).toEqual([held])
    expect(untouched).toBeLessThan(held)
    expect(versions.peek([other])).toEqual([untouched])
    // Heard while no read was on its way, a predicate this process never read is left to Redis, as before.
    const third = predicateVersionName('Post', 'authorId', [valueHash('i7')])
    versions.apply([third], [held])
    expect(versions.peek([third])).toBeUndefined()
  })

  it('a bus message moves a version forward; a late or malformed one makes the name be asked again', async () => {
    const { versions } = track(withRedis())
    versions.trust()
    const [v] = (await snapshot(versions, ['m:User', 'm:Post'])) as number[]
    const now = v as number
    versions.apply(['m:User'], [now + 2])
    expect(versions.peek(['m:User'])).toEqual([now + 2])
    expect(versions.matches(['m:User'], [now])).toBe(false)
    versions.apply(['m:User'], [now + 1]) // older than known: out of order
    expect(versions.peek(['m:User'])).toBeUndefined()
    versions.apply(['m:Post'], [Number.NaN])
    expect(versions.peek(['m:Post'])).toBeUndefined()
  })
})

describe('names another instance could not bump', () => {
  it('are not trusted, and this instance bumps them itself about once a second if their writer is gone', async () => {
    const { client, versions } = track(withRedis())
    versions.trust()
    const [v] = (await snapshot(versions, ['m:User'])) as number[]
    versions.markDirty(['m:User'])
    expect(versions.matches(['m:User'], [v as number])).toBe(false)
    expect(await snapshot(versions, ['m:User'])).toBeUndefined()
    expect(await snapshot(versions, ['m:Post'])).toEqual([held(client, 'm:Post')]) // other names are unaffected
    await vi.advanceTimersByTimeAsync(950)
    expect(client.server.bumps).toEqual([])
    await vi.advanceTimersByTimeAsync(50)
    expect(client.server.bumps).toEqual([[keys.version('m:User')]])
    const after = held(client, 'm:User') as number
    expect(after).toBeGreaterThan(v as number)
    expect(await snapshot(versions, ['m:User'])).toEqual([after])
    await vi.advanceTimersByTimeAsync(5000)
    expect(client.server.bumps.length).toBe(1)
  })
})

describe('past MAX_KNOWN known versions', () => {
  it('without Redis, a forgotten name comes back above every version given out, so no old entry matches', () => {
    const versions = new Versions(undefined, keys, 'me', new Stats())
    open.push(versions)
    const given = [(versions.peek(['m:User']) as number[])[0] as number]
    for (let i = 0; i < 2; i++) given.push(versions.bumpLocal('m:User'))
    for (let i = 0; i < MAX_KNOWN; i++) versions.peek([`m:Other${i}`])
    const [now] = versions.peek(['m:User']) as number[]
    expect(now).toBeGreaterThan(Math.max(...given))
    for (const old of given) expect(versions.matches(['m:User'], [old])).toBe(false)
  })

  it('with Redis, a forgotten name is asked of Redis again', async () => {
    const { client, versions } = track(withRedis())
    versions.trust()
    const [v] = (await snapshot(versions, ['m:User'])) as number[]
    const others = Array.from({ length: MAX_KNOWN }, (_, i) => `m:Other${i}`)
    versions.apply(
      others,
      others.map(() => v as number),
    )
    expect(versions.peek(['m:User'])).toBeUndefined()
    expect(await snapshot(versions, ['m:User'])).toEqual([v])
    expect(client.scriptCalls(readVersions)).toBe(2)
  })
})

describe('without Redis', () => {
  it('versions are trusted from the start, and a bump makes every entry under the old one stale', async () => {
    const versions = new Versions(undefined, keys, 'me', new Stats())
    open.push(versions)
    const [v] = (await versions.snapshot(['m:User'])) as number[]
    expect(versions.matches(['m:User'], [v as number])).toBe(true)
    await versions.bump(['m:User'])
    expect(versions.matches(['m:User'], [v as number])).toBe(false)
    expect(await versions.snapshot(['m:User'])).toEqual([(v as number) + 1])
  })

  it('a process started later never gives out a version an earlier one used', async () => {
    const first = new Versions(undefined, keys, 'me', new Stats())
    open.push(first)
    const given = [(first.peek(['m:User']) as number[])[0] as number]
    for (let i = 0; i < 100; i++) {
      await first.bump(['m:User'])
      given.push((first.peek(['m:User']) as number[])[0] as number)
    }
    vi.advanceTimersByTime(1) // the next process starts at least a millisecond later
    const second = new Versions(undefined, keys, 'me', new Stats())
    open.push(second)
    const [seed] = second.peek(['m:User']) as number[]
    expect(seed).toBeGreaterThan(Math.max(...given))
  })
})
