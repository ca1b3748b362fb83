// Membership versions (design invariant 11, docs/design.md): a count (`count`, a relation `_count`) over exactly a
// predicate changes only when a row enters or leaves it. A write that keeps its row in the predicate (a title
// update) leaves such a cached count a hit, while every read of the rows themselves sees the change; a create, a
// delete, a move to another author, an update of a field the count filters on, make it stale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix)('precise counts: $provider / $tiers', (c) => {
  let s: Setup
  let seq = 0

  beforeAll(async () => {
    s = await setupCase(c, {})
  })
  afterAll(() => s?.close())

  const cached = () => s.prisma as unknown as Setup['raw']

  async function author() {
    const n = ++seq
    const a = await s.raw.user.create({ data: { email: `count-a${n}@x`, name: 'a' } })
    const b = await s.raw.user.create({ data: { email: `count-b${n}@x`, name: 'b' } })
    const posts = []
    for (let i = 0; i < 3; i++) {
      posts.push(await s.raw.post.create({ data: { title: `t${i}`, authorId: a.id, published: i > 0, views: 1 } }))
    }
    return { a, b, posts }
  }

  /** Counts over exactly a predicate: the relation `_count`, with and without an equality filter, and `count`. */
  const counts = (client: Setup['raw'], id: number) =>
    Promise.all([
      client.user.findUnique({ where: { id }, include: { _count: { select: { posts: true } } } }),
      client.user.findUnique({
        where: { id },
        select: { id: true, _count: { select: { posts: { where: { published: true } } } } },
      }),
      client.post.count({ where: { authorId: id } }),
      client.post.count({ where: { authorId: id, published: true }, select: { _all: true } }),
    ])
  /** Reads of the same rows' contents, and a count whose filter is not an equality. */
  const contents = (client: Setup['raw'], id: number) =>
    Promise.all([
      client.post.findMany({ where: { authorId: id }, orderBy: { id: 'asc' } }),
      client.post.count({ where: { authorId: id, views: { gte: 2 } } }),
      client.post.count({ where: { authorId: id }, select: { rating: true } }),
    ])

  it("an update that keeps every row in the counts' predicates leaves the cached counts hits", async () => {
    const { a, posts } = await author()
    await counts(cached(), a.id)
    await contents(cached(), a.id)
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { title: 'renamed' } })
    await s.prisma.post.update({ where: { id: posts[1]?.id }, data: { views: { increment: 1 }, rating: 2.5 } })
    s.counting.reset()
    const after = await counts(cached(), a.id)
    expect(s.counting.count()).toBe(0) // every count answered by the cache
    expect(after).toEqual(await counts(s.raw, a.id))
    // The rows, a count filtered by views and a count of non-null ratings changed: each is read again.
    s.counting.reset()
    expect(await contents(cached(), a.id)).toEqual(await contents(s.raw, a.id))
    expect(s.counting.count()).toBe(3)
  })

  it('a row entering or leaving a predicate makes its cached counts stale: create, delete, move, filtered field', async () => {
    const { a, b, posts } = await author()
    const check = async () => {
      for (const id of [a.id, b.id]) {
        expect(await counts(cached(), id)).toEqual(await counts(s.raw, id))
        expect(await contents(cached(), id)).toEqual(await contents(s.raw, id))
      }
    }
    await check()
    const created = await s.prisma.post.create({ data: { title: 'new', authorId: a.id, published: true } })
    await check()
    await s.prisma.post.update({ where: { id: posts[1]?.id }, data: { published: false } }) // leaves the filter
    await check()
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { authorId: b.id } }) // from a to b
    await check()
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { author: { connect: { id: a.id } } } })
    await check()
    await s.prisma.post.upsert({
      where: { id: 1_000_000 + seq },
      create: { title: 'upserted', authorId: b.id, published: true },
      update: {},
    })
    await check()
    await s.prisma.post.delete({ where: { id: created.id } })
    await check()
    await s.prisma.post.update({ where: { id: posts[2]?.id }, data: { views: { increment: 5 } } })
    await check()
  })
})
