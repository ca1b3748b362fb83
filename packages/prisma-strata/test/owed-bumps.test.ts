// A backlog of bumps that could not reach Redis must be able to clear: it goes out in bounded calls, and past a
// bound its tag bumps become one bump of the name every tagged entry depends on. Redis is a fake here: what is
// checked is what Strata sends (the integration test in test/faults.test.ts runs it against a real Redis).
import { describe, expect, it } from 'vitest'
import { Stats } from '../src/observe/stats'
import { EVERY_TAG, keySpace, tagVersionName } from '../src/store/keys'
import { FAILED, type RedisTier } from '../src/store/redis-tier'
import { bumpVersions } from '../src/store/scripts'
import { BUMP_CHUNK, Versions } from '../src/store/versions'

function fakeRedis() {
  const fake = {
    up: true,
    bumps: [] as string[][],
    published: [] as string[],
    timeoutMs: 100,
    async script(source: string, keys: string[]) {
      if (!fake.up) return FAILED
      // Both version scripts take the timeline key first and answer for the names after it.
      const names = keys.slice(1)
      if (source === bumpVersions) fake.bumps.push(names)
      return names.map(() => 1_700_000_000_000_000)
    },
    async publish(_channel: string, message: string) {
      fake.published.push(message)
      return 1
    },
  }
  return fake
}

const tags = (n: number, from = 0) => Array.from({ length: n }, (_, i) => tagVersionName(`tag-${from + i}`))

describe('owed bumps', () => {
  it('go out in calls of at most 500 names', async () => {
    const redis = fakeRedis()
    const versions = new Versions(redis as unknown as RedisTier, keySpace('u'), 'me', new Stats())
    await versions.bump(tags(5_000))
    expect(redis.bumps.map((keys) => keys.length)).toEqual(Array(10).fill(BUMP_CHUNK))
    versions.close()
  })

  it('a backlog of 100,000 names becomes one bump of every tag, and clears once Redis is back', async () => {
    const redis = fakeRedis()
    const versions = new Versions(redis as unknown as RedisTier, keySpace('u'), 'me', new Stats())
    redis.up = false
    await versions.bump(['m:User', ...tags(60_000)])
    await versions.bump(['m:Post', ...tags(40_000, 60_000)])
    expect(redis.published.every((m) => m.split(' ').length <= BUMP_CHUNK + 2)).toBe(true)
    expect(await versions.snapshot(['m:User'])).toBeUndefined() // owed: Redis is not read
    redis.up = true
    const deadline = Date.now() + 5000
    while (redis.bumps.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(redis.bumps.map((keys) => [...keys].sort())).toEqual([
      ['{u}:v:m:Post', '{u}:v:m:User', `{u}:v:${EVERY_TAG}`],
    ])
    expect(await versions.snapshot(['m:User'])).toEqual([1_700_000_000_000_000])
    versions.close()
  })

  it('a name another instance could not bump answers from the database until a bump of it lands, from anyone', async () => {
    const redis = fakeRedis()
    const versions = new Versions(redis as unknown as RedisTier, keySpace('u'), 'me', new Stats())
    versions.trust()
    expect(await versions.snapshot(['m:User'])).toEqual([1_700_000_000_000_000])
    redis.up = false
    versions.markDirty(['m:User', tagVersionName('a')])
    expect(versions.peek(['m:User'])).toBeUndefined() // the hit path no longer trusts it
    redis.up = true // Redis answers reads, but still holds the version from before the refused bump
    redis.bumps.length = 0
    expect(await versions.snapshot(['m:User'])).toBeUndefined()
    versions.apply(['m:User'], [1_700_000_000_000_001]) // another instance's bump, through the bus
    versions.apply([EVERY_TAG], [1_700_000_000_000_001]) // settles every dirty tag
    expect(await versions.snapshot(['m:User'])).toEqual([1_700_000_000_000_001])
    expect(await versions.snapshot([tagVersionName('a')])).toEqual([1_700_000_000_000_000])
    versions.close()
  })
})
