// No answer past its TTL, however long a caller holds the event loop: a row changed behind the cache's back (by
// another service, or an instance whose bus message is late) is bounded by the TTL alone, and a caller that does
// seconds of synchronous work between two reads of one turn must still get the database's row once the TTL has
// passed. Timers cannot run while the loop is held: lru-cache, which keeps the time of a turn's first check until
// a timer clears it, served the local entry as fresh (fixed with `ttlResolution: 0`). The fill side of this (a
// flight whose fill is still landing) is in fill-after-answer.test.ts. And a Redis reply that came in time is a
// reply, though the caller held the loop past `redisTimeout`: the deadlines' timer runs before the socket is read,
// and used to turn it into a timeout, counted against the breaker and reported.
import type { Redis } from 'ioredis'
import type { CacheOptions } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { busy } from './support/busy.ts'
import { matrix, type Setup, setupCase } from './support/matrix.ts'
import { redisAnswered } from './support/redis-answered.ts'

const TTL = 0.3 // seconds
const writeThrough = { models: { Post: { strategy: 'write-through' as const } } }
const variants: Array<[string, CacheOptions]> = [
  ['default options', {}],
  ['leases', { lease: true }],
  ['write-through', writeThrough],
  ['write-through and leases', { ...writeThrough, lease: true }],
  ['no local tier', { local: false }],
]

describe.each(
  matrix.filter((c) => c.tiers === 'two-tier' && c.provider !== 'mysql'),
)('a held event loop: $provider', (c) => {
  let s: Setup
  beforeAll(async () => {
    s = await setupCase(c)
  })
  afterAll(() => s?.close())

  it.each(variants)('%s: an entry past its TTL is not served in the turn that held the loop', async (name, options) => {
    const post = await s.raw.post.create({ data: { title: `held ${name}`, views: 1 } })
    const client = await s.instance({ ttl: TTL, ...options })
    const read = () => client.post.findUnique({ where: { id: post.id } })
    expect((await read())?.views).toBe(1)
    expect((await read())?.views).toBe(1) // a hit, as a rule (a slow machine may have let the entry expire)
    // Changed behind the cache's back: only the TTL bounds how long the cache may answer 1.
    await s.raw.post.update({ where: { id: post.id }, data: { views: 2 } })
    const later = await read().then(() => {
      busy(TTL * 1000 + 100)
      return read()
    })
    expect(later?.views).toBe(2)
  })

  it('a Redis reply that came in time is no timeout, though the caller held the loop past redisTimeout', async () => {
    const post = await s.raw.post.create({ data: { title: 'held reply', views: 1 } })
    const errors: unknown[] = []
    const options = { local: false, redisTimeout: 200, onError: (error: unknown) => errors.push(error) } as const
    const writer = await s.instance(options)
    await writer.post.findUnique({ where: { id: post.id } })
    await writer.$cache.close() // its fill has landed
    const client = await s.instance(options)
    await client.post.findUnique({ where: { id: post.id } }) // a hit; the read's versions are now known here
    client.$cache.resetStats()
    for (let i = 0; i < 3; i++) {
      // Its versions known, the read sends its GET at once; the reply arrives while the caller holds the loop, past
      // the timeout (told by a PING of another process: a loaded machine may keep Redis from answering for long).
      const answered = client.post.findUnique({ where: { id: post.id } }).then((row) => row?.views)
      redisAnswered(s.redis as Redis)
      busy(2 * options.redisTimeout)
      expect(await answered).toBe(1)
    }
    expect(client.$cache.stats()).toMatchObject({ redisHits: 3, misses: 0 })
    expect(errors).toEqual([])
  })
})
