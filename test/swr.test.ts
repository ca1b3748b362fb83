// Stale-while-revalidate, grace, and stampedes inside one process.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { holdNextSelect } from './support/hold-statement.ts'
import { matrix, type Setup, setupCase } from './support/matrix.ts'
import { waitUntil } from './support/running-time.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.each(matrix)('swr, grace and single flight: $provider / $tiers', (c) => {
  let s: Setup
  let failQueries = false
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let postId: number

  beforeAll(async () => {
    s = await setupCase(
      c,
      { jitter: 0, grace: 30 },
      {
        beforeQuery: (sql) => {
          if (failQueries && /select/i.test(sql)) throw new Error('database unavailable')
        },
        afterQuery: (sql) => hold?.(sql),
      },
    )
    postId = (await s.raw.post.create({ data: { title: 'hot', views: 1 } })).id
  })
  afterAll(() => s?.close())

  it('within swr, an expired entry answers at once while exactly one refresh runs; then the fresh value', async () => {
    const args = { where: { title: 'hot' }, cache: { ttl: 0.2, swr: 30 } }
    expect((await s.prisma.post.findFirst(args))?.views).toBe(1)
    await s.raw.post.update({ where: { id: postId }, data: { views: 2 } }) // behind the cache's back: no bump
    await sleep(250) // past the TTL, inside swr
    s.counting.reset()
    // The refresh's query is held until the stale answers are in: had a read waited for it, this would hang.
    const held = holdNextSelect('Post')
    hold = held.hook
    const stale = await Promise.all(Array.from({ length: 100 }, () => s.prisma.post.findFirst(args)))
    expect(stale.every((p) => p?.views === 1)).toBe(true)
    await held.held // the refresh did start
    held.release()
    hold = undefined
    // Once the refresh has landed the entry is fresh again; reads meanwhile are stale and start no other refresh.
    await vi.waitFor(async () => expect((await s.prisma.post.findFirst(args))?.views).toBe(2))
    expect(s.counting.count()).toBe(1) // one refresh for every stale read
    expect(s.prisma.$cache.stats().stale).toBeGreaterThanOrEqual(100)
  })

  it("a refresh queries the read's arguments as they were: a caller reusing its object after the answer", async () => {
    const other = (await s.raw.post.create({ data: { title: 'other', views: 41 } })).id
    const where = { title: 'hot' }
    const args = { where, cache: { ttl: 0.2, swr: 30 } }
    await s.prisma.post.findFirst(args)
    await sleep(250) // past the TTL, inside swr
    const fills = s.prisma.$cache.stats().fills
    await s.prisma.post.findFirst(args) // stale: answers at once, starts the refresh
    // The app reuses its object for another query: with Redis, before the refresh (which takes a snapshot first)
    // has sent its query.
    where.title = 'other'
    // The refresh has stored its fill (waited for in the time this process could run).
    await waitUntil(() => s.prisma.$cache.stats().fills !== fills, 10_000, 5)
    expect(s.prisma.$cache.stats().fills, 'the refresh stored its fill').toBe(fills + 1)
    // What it stored under the entry of `title: 'hot'` is that query's answer.
    const hot = { where: { title: 'hot' }, cache: { ttl: 0.2, swr: 30 } }
    expect((await s.prisma.post.findFirst(hot))?.id).toBe((await s.raw.post.findFirst({ where: { title: 'hot' } }))?.id)
    await s.raw.post.delete({ where: { id: other } })
  })

  it('an entry made stale by a write is never served, swr or not', async () => {
    const args = { where: { title: 'hot' }, cache: { ttl: 0.2, swr: 30 } }
    await s.prisma.post.findFirst(args)
    await sleep(250)
    await s.prisma.post.update({ where: { id: postId }, data: { views: 3 } })
    expect((await s.prisma.post.findFirst(args))?.views).toBe(3)
  })

  it('within grace, an expired entry answers when the database fails', async () => {
    const args = { where: { id: postId }, select: { id: true, views: true }, cache: { ttl: 0.1 } }
    const before = await s.prisma.post.findUnique(args)
    await sleep(150)
    const counted = s.prisma.$cache.stats()
    failQueries = true
    try {
      expect(await s.prisma.post.findUnique(args)).toEqual(before)
      // The cache answered: a stale hit, not a miss.
      const after = s.prisma.$cache.stats()
      expect(after.stale).toBe(counted.stale + 1)
      expect(after.localHits + after.redisHits).toBe(counted.localHits + counted.redisHits + 1)
      expect(after.misses).toBe(counted.misses)
      // A query never cached has nothing to fall back on: the database's error is the caller's.
      await expect(s.prisma.post.findMany({ where: { views: 12345 } })).rejects.toThrow(/database unavailable/)
    } finally {
      failQueries = false
    }
  })

  it('1,000 concurrent reads of an expired hot key send one query', async () => {
    const args = { where: { title: 'hot' }, select: { views: true }, cache: { ttl: 0.1 } }
    await s.prisma.post.findFirst(args)
    await sleep(150)
    s.counting.reset()
    const results = await Promise.all(Array.from({ length: 1000 }, () => s.prisma.post.findFirst(args)))
    expect(new Set(results.map((p) => p?.views)).size).toBe(1)
    expect(s.counting.count()).toBe(1)
  })
})
