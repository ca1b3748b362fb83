// Cache-aside reads on every database and tier combination: hits send no SQL, answers are exact Prisma values,
// every argument keys its own entry, and per-query options work.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Prisma } from '../generated/sqlite/client/client.ts'
import { caseName, matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix)('reads: $provider / $tiers', (c) => {
  let s: Setup
  let userId: number

  beforeAll(async () => {
    s = await setupCase(c)
    const user = await s.raw.user.create({
      data: {
        email: 'ada@example.com',
        name: 'Ada',
        role: 'ADMIN',
        balance: new Prisma.Decimal('1234.5678'),
        karma: 9007199254740993n,
        avatar: new Uint8Array([0, 1, 2, 255]),
        prefs: { theme: 'dark', langs: ['en', 'fr'], n: 1.5 },
        profile: { create: { bio: 'math' } },
        posts: { create: [{ title: 'one', published: true }, { title: 'two' }] },
      },
    })
    userId = user.id
  })
  afterAll(() => s?.close())
  beforeEach(() => s.counting.reset())

  it(`${caseName(c)}: a repeated read is answered without SQL`, async () => {
    const first = await s.prisma.user.findMany({ where: { role: 'ADMIN' } })
    const sent = s.counting.count()
    expect(sent).toBeGreaterThan(0)
    const second = await s.prisma.user.findMany({ where: { role: 'ADMIN' } })
    expect(s.counting.count()).toBe(sent)
    expect(second).toEqual(first)
  })

  it('returns exact Prisma values from the cache (Decimal, BigInt, Bytes, Json, Date, enum)', async () => {
    const args = { where: { id: userId }, include: { profile: true, posts: { orderBy: { id: 'asc' as const } } } }
    const oracle = await s.raw.user.findUnique(args)
    await s.prisma.user.findUnique(args)
    const cached = await s.prisma.user.findUnique(args)
    expect(cached).toEqual(oracle)
    expect(cached?.balance).toBeInstanceOf(Prisma.Decimal)
    expect(cached?.balance.toString()).toBe('1234.5678')
    expect(cached?.karma).toBe(9007199254740993n)
    expect(cached?.avatar).toBeInstanceOf(Uint8Array)
    expect(cached?.createdAt).toBeInstanceOf(Date)
    const user = s.prisma.$cache.stats().models.User
    expect((user?.localHits ?? 0) + (user?.redisHits ?? 0)).toBeGreaterThan(0)
  })

  it('a caller mutating its result does not change what the next caller gets', async () => {
    const args = { where: { id: userId } }
    const a = await s.prisma.user.findUniqueOrThrow(args)
    a.name = 'mutated'
    a.avatar?.fill(7)
    ;(a.prefs as { langs: string[] }).langs.push('xx')
    const b = await s.prisma.user.findUniqueOrThrow(args)
    expect(b).toEqual(await s.raw.user.findUniqueOrThrow(args))
  })

  it('every argument keys its own entry: select, omit, include, take, orderBy', async () => {
    const variants: Prisma.PostFindManyArgs[] = [
      { where: { authorId: userId } },
      { where: { authorId: userId }, select: { title: true } },
      { where: { authorId: userId }, omit: { views: true } },
      { where: { authorId: userId }, include: { author: true } },
      { where: { authorId: userId }, take: 1 },
      { where: { authorId: userId }, orderBy: { id: 'desc' as const } },
    ]
    for (let round = 0; round < 2; round++) {
      for (const args of variants) expect(await s.prisma.post.findMany(args)).toEqual(await s.raw.post.findMany(args))
    }
  })

  it('count, aggregate and groupBy are cached and exact', async () => {
    const agg = { _sum: { views: true }, _avg: { views: true }, _count: { _all: true } } as const
    for (let round = 0; round < 2; round++) {
      expect(await s.prisma.post.count({ where: { published: true } })).toBe(
        await s.raw.post.count({ where: { published: true } }),
      )
      expect(await s.prisma.post.aggregate(agg)).toEqual(await s.raw.post.aggregate(agg))
      const by = { by: ['published'], _count: true, orderBy: { published: 'asc' } } satisfies Prisma.PostGroupByArgs
      expect(await s.prisma.post.groupBy(by)).toEqual(await s.raw.post.groupBy(by))
      expect(await s.prisma.user.aggregate({ _sum: { balance: true, karma: true } })).toEqual(
        await s.raw.user.aggregate({ _sum: { balance: true, karma: true } }),
      )
    }
  })

  it('a missing row is cached briefly; *OrThrow throws the same Prisma error from the cache', async () => {
    const where = { id: 987654 }
    expect(await s.prisma.user.findUnique({ where })).toBeNull()
    s.counting.reset()
    expect(await s.prisma.user.findUnique({ where })).toBeNull()
    const fromCache = await s.prisma.user.findUniqueOrThrow({ where }).catch((e: unknown) => e)
    expect(s.counting.count()).toBe(0)
    const fromPrisma = await s.raw.user.findUniqueOrThrow({ where }).catch((e: unknown) => e)
    expect(fromCache).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect(fromCache).toMatchObject({
      code: 'P2025',
      meta: (fromPrisma as { meta: unknown }).meta,
      clientVersion: (fromPrisma as { clientVersion: string }).clientVersion,
    })
    expect((fromCache as Error).constructor).toBe((fromPrisma as Error).constructor)
    await expect(s.prisma.user.findFirstOrThrow({ where: { email: 'nobody' } })).rejects.toMatchObject({
      code: 'P2025',
    })
  })

  it('the fluent API is served from the cache too', async () => {
    const posts = await s.prisma.user.findUnique({ where: { id: userId } }).posts({ orderBy: { id: 'asc' } })
    expect(posts).toEqual(await s.raw.user.findUnique({ where: { id: userId } }).posts({ orderBy: { id: 'asc' } }))
    s.counting.reset()
    const again = await s.prisma.user.findUnique({ where: { id: userId } }).posts({ orderBy: { id: 'asc' } })
    expect(again).toEqual(posts)
    expect(s.counting.count()).toBe(0)
    const post = posts?.[0]
    expect(
      await s.prisma.post
        .findUniqueOrThrow({ where: { id: post?.id ?? 0 } })
        .author()
        .profile(),
    ).toEqual(
      await s.raw.post
        .findUniqueOrThrow({ where: { id: post?.id ?? 0 } })
        .author()
        .profile(),
    )
    expect(await s.prisma.user.findUnique({ where: { id: 424242 } }).posts()).toBeNull()
  })

  it('is lazy like a PrismaPromise: nothing is sent until it is awaited', async () => {
    const pending = s.prisma.user.findMany({ where: { name: 'lazy' } })
    await new Promise((r) => setTimeout(r, 20))
    expect(s.counting.count()).toBe(0)
    expect(Object.prototype.toString.call(pending)).toBe('[object PrismaPromise]')
    expect(await pending).toEqual([])
  })

  it('per query: `cache: false` bypasses, `ttl` expires, `key` names the entry', async () => {
    const args = { where: { id: userId } }
    await s.prisma.user.findUnique(args)
    s.counting.reset()
    await s.prisma.user.findUnique({ ...args, cache: false })
    expect(s.counting.count()).toBe(1)

    // A TTL of 1 s: long enough that a loaded machine still reads twice inside it.
    await s.prisma.post.findMany({ where: { title: 'one' }, cache: { ttl: 1 } })
    s.counting.reset()
    await s.prisma.post.findMany({ where: { title: 'one' }, cache: { ttl: 1 } })
    expect(s.counting.count()).toBe(0)
    await new Promise((r) => setTimeout(r, 1100))
    await s.prisma.post.findMany({ where: { title: 'one' }, cache: { ttl: 1 } })
    expect(s.counting.count()).toBe(1)

    const named = await s.prisma.post.findMany({ where: { published: true }, cache: { key: 'published-posts' } })
    s.counting.reset()
    expect(await s.prisma.post.findMany({ where: { published: true }, cache: { key: 'published-posts' } })).toEqual(
      named,
    )
    expect(s.counting.count()).toBe(0)
  })

  it('tags: $cache.invalidate({ tags }) drops the entries carrying them', async () => {
    const args = { where: { published: true }, cache: { tags: ['feed'] } }
    await s.prisma.post.findMany(args)
    s.counting.reset()
    await s.prisma.post.findMany(args)
    expect(s.counting.count()).toBe(0)
    await s.prisma.$cache.invalidate({ tags: ['feed'] })
    await s.prisma.post.findMany(args)
    expect(s.counting.count()).toBe(1)
  })

  it('the same query under other tags is another entry: invalidating either tag reaches its readers', async () => {
    const where = { id: userId }
    await s.prisma.user.findUnique({ where, cache: { tags: ['t1'] } })
    await s.raw.user.update({ where, data: { name: 'retagged' } }) // behind the cache's back
    await s.prisma.$cache.invalidate({ tags: ['t2'] })
    expect((await s.prisma.user.findUnique({ where, cache: { tags: ['t2'] } }))?.name).toBe('retagged')
    await s.raw.user.update({ where, data: { name: 'Ada' } })
    await s.prisma.$cache.invalidate({ models: ['User'] })
  })

  it('Json filters with the same keys in another order are other queries', async () => {
    const count = (equals: object) => s.prisma.user.count({ where: { prefs: { equals } } })
    const oracle = (equals: object) => s.raw.user.count({ where: { prefs: { equals } } })
    const ordered = { theme: 'dark', langs: ['en', 'fr'], n: 1.5 }
    const reordered = { n: 1.5, langs: ['en', 'fr'], theme: 'dark' }
    expect(await count(ordered)).toBe(await oracle(ordered))
    expect(await count(reordered)).toBe(await oracle(reordered))
  })

  it('$cache.invalidate({ models }) drops every read depending on them', async () => {
    const args = { where: { id: userId }, include: { posts: true } }
    await s.prisma.user.findUnique(args)
    await s.raw.post.updateMany({ where: { authorId: userId }, data: { views: { increment: 1 } } }) // behind our back
    await s.prisma.$cache.invalidate({ models: ['Post'] })
    expect(await s.prisma.user.findUnique(args)).toEqual(await s.raw.user.findUnique(args))
    await expect(s.prisma.$cache.invalidate({ models: ['Nope'] })).rejects.toThrow(/unknown model `Nope`/)
  })

  it("a detached read method works as Prisma's does, and so does a bound one", async () => {
    const detached = s.prisma.user.findMany
    expect(await detached({ where: { id: userId } })).toEqual(await s.raw.user.findMany({ where: { id: userId } }))
    const bound = s.prisma.user.findMany.bind(s.prisma.user)
    expect(await bound({ where: { id: userId } })).toEqual(await s.raw.user.findMany({ where: { id: userId } }))
  })

  it('a model turned off (schema @cache(false)) is never cached', async () => {
    await s.prisma.auditLog.findMany()
    s.counting.reset()
    await s.prisma.auditLog.findMany()
    expect(s.counting.count()).toBe(1)
  })

  it('concurrent identical misses share one database query', async () => {
    s.counting.reset()
    const results = await Promise.all(
      Array.from({ length: 50 }, () => s.prisma.post.findFirst({ where: { title: 'two' }, orderBy: { id: 'asc' } })),
    )
    expect(new Set(results.map((r) => r?.id)).size).toBe(1)
    expect(s.counting.count()).toBe(1)
  })
})
