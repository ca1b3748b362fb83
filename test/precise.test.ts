// Precise invalidation (design invariant 11, docs/design.md): a write makes stale only the cached reads whose
// predicates its row matches, before or after the write; every answer still equals the database's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdNextSelect } from './support/hold-statement.ts'
import { matrix, type Setup, setupCase } from './support/matrix.ts'
import { waitUntil } from './support/running-time.ts'

describe.each(matrix)('precise invalidation: $provider / $tiers', (c) => {
  let s: Setup
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let seq = 0

  beforeAll(async () => {
    s = await setupCase(c, {}, { afterQuery: (sql) => hold?.(sql) })
  })
  afterAll(() => s?.close())

  /** The cached client, typed as the oracle (the same model API). */
  const cached = () => s.prisma as unknown as Setup['raw']

  /** Two authors with two posts each. */
  async function authors() {
    const n = ++seq
    const a = await s.raw.user.create({ data: { email: `a${n}@x`, name: 'a' } })
    const b = await s.raw.user.create({ data: { email: `b${n}@x`, name: 'b' } })
    const posts = []
    for (const author of [a, a, b, b]) {
      posts.push(await s.raw.post.create({ data: { title: `t${posts.length}`, authorId: author.id, views: 1 } }))
    }
    return { a, b, posts }
  }

  /** Reads of author `id`'s rows, each by a predicate: by key, by foreign key, a relation load, a count. */
  const readsOf = (client: Setup['raw'], id: number, postId: number) =>
    Promise.all([
      client.post.findMany({ where: { authorId: id }, orderBy: { id: 'asc' } }),
      client.post.findMany({ where: { authorId: id, views: { gte: 1 } }, orderBy: { id: 'asc' } }),
      client.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'asc' } } } }),
      client.user.findUnique({ where: { id }, include: { _count: { select: { posts: true } } } }),
      client.post.count({ where: { authorId: { in: [id] } } }),
      client.post.findUnique({ where: { id: postId } }),
    ])

  it("a write to one author's post leaves the other author's cached reads hits", async () => {
    const { a, posts } = await authors()
    const [aPost, , bPost] = [posts[0], posts[1], posts[2]]
    const before = await readsOf(cached(), a.id, aPost?.id as number)
    s.counting.reset()
    await readsOf(cached(), a.id, aPost?.id as number)
    expect(s.counting.count()).toBe(0)

    await s.prisma.post.update({ where: { id: bPost?.id }, data: { title: 'changed', views: 5 } })
    await s.prisma.post.create({ data: { title: 'new', authorId: bPost?.authorId } })
    s.counting.reset()
    const after = await readsOf(cached(), a.id, aPost?.id as number)
    expect(s.counting.count()).toBe(0) // every read of author a is still a hit
    expect(after).toEqual(before)
    expect(after).toEqual(await readsOf(s.raw, a.id, aPost?.id as number))
  })

  const entries = async () => (await s.redis?.keys(`${s.prefix}:e:*`))?.length ?? 0

  /**
   * With Redis a fine entry is made after the answer, kept here, then stored in Redis: waits until `count` more
   * entries than `before` are there. (Waited for in the time this process could run: a loaded machine's stalls do
   * not count.)
   */
  async function fineStored(before: number, count = 1) {
    if (!s.redis) return
    await waitUntil(async () => (await entries()) >= before + count)
    expect(await entries(), 'the fine entries reached Redis').toBe(before + count)
  }

  it('a list ordered by key keeps hitting after a write to a row of its predicate it does not show', async () => {
    const { a, b, posts } = await authors()
    const [older, newer] = [posts[0]?.id as number, posts[1]?.id as number]
    const newest = (client: Setup['raw']) =>
      client.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'desc' }, take: 1 })
    const check = async () => expect(await newest(cached())).toEqual(await newest(s.raw))
    const before = await entries()
    await check()
    await fineStored(before)
    await s.prisma.post.update({ where: { id: older }, data: { title: 'not shown', views: 3 } })
    s.counting.reset()
    await check()
    expect(s.counting.count()).toBe(0) // the update changed a row the list does not show: still a hit
    await s.prisma.post.update({ where: { id: newer }, data: { title: 'shown' } })
    await check() // a row it shows
    await s.prisma.post.create({ data: { title: 'newest', authorId: a.id } })
    await check() // a row that enters
    const created = (await newest(s.raw))[0]?.id as number
    await s.prisma.post.update({ where: { id: created }, data: { authorId: b.id } })
    await check() // a row that leaves
    await s.prisma.post.update({ where: { id: newer }, data: { id: created + 100 } })
    await check() // a key that moves
    await s.prisma.post.delete({ where: { id: created + 100 } })
    await check()
    await s.prisma.post.updateMany({ where: { authorId: a.id }, data: { views: 11 } })
    await check()
  })

  it('a row that leaves a list ordered by key unshown leaves it a hit, unless the list skips rows', async () => {
    const { a, b, posts } = await authors()
    const [p0, p1] = [posts[0]?.id as number, posts[1]?.id as number]
    const newest = (client: Setup['raw'], select?: { id: true; title: true }) =>
      client.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'desc' }, take: 1, select })
    const lists = (client: Setup['raw']) =>
      Promise.all([
        newest(client),
        client.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'desc' }, skip: 1, take: 1 }),
      ])
    const check = async () => expect(await lists(cached())).toEqual(await lists(s.raw))
    const stillHit = async (read: (client: Setup['raw']) => Promise<unknown>) => {
      s.counting.reset()
      expect(await read(cached())).toEqual(await read(s.raw))
      expect(s.counting.count(), 'the list of the newest post is still a hit').toBe(0)
    }

    let before = await entries()
    await check()
    await fineStored(before, 2)
    await s.prisma.post.update({ where: { id: p0 }, data: { authorId: b.id } }) // out of a, not shown
    // MySQL has no `RETURNING` to make a move conditional on the key's old value: it bumps the scheme whole.
    if (c.provider !== 'mysql') await stillHit(newest)
    await check() // the list that skips the newest showed the post that left

    const p2 = (await s.prisma.post.create({ data: { title: 'newest', authorId: a.id } })).id
    await check() // a row that arrives is shown, and pushes p1 into the skipping list
    expect((await newest(s.raw)).map((p) => p.id)).toEqual([p2])
    const picked = (client: Setup['raw']) => newest(client, { id: true, title: true })
    before = await entries()
    await picked(cached())
    await fineStored(before)
    await s.prisma.post.delete({ where: { id: p1 } }) // leaves, not shown by the newest
    await stillHit(picked)
    await check()
    await s.prisma.post.delete({ where: { id: p2 } }) // leaves, shown
    await check()
    expect(await picked(cached())).toEqual(await picked(s.raw))
  })

  it('a write to a row a read can see makes it stale: fields, creates, deletes, moves between authors', async () => {
    const { a, b, posts } = await authors()
    const aPost = posts[0]?.id as number
    const check = async () => {
      expect(await readsOf(cached(), a.id, aPost)).toEqual(await readsOf(s.raw, a.id, aPost))
      expect(await readsOf(cached(), b.id, aPost)).toEqual(await readsOf(s.raw, b.id, aPost))
    }
    await check()
    await s.prisma.post.update({ where: { id: aPost }, data: { views: 7 } })
    await check()
    const created = await s.prisma.post.create({ data: { title: 'fresh', author: { connect: { id: a.id } } } })
    await check()
    await s.prisma.post.update({ where: { id: aPost }, data: { authorId: b.id } }) // out of a, into b
    await check()
    await s.prisma.post.update({ where: { id: aPost }, data: { author: { connect: { id: a.id } } } }) // and back
    await check()
    await s.prisma.post.delete({ where: { id: created.id } })
    await check()
    await s.prisma.post.upsert({
      where: { id: aPost },
      create: { title: 'never' },
      update: { authorId: null },
    })
    await check()
    await s.prisma.post.updateMany({ where: { authorId: b.id }, data: { views: 9 } })
    await check()
    await s.prisma.user.update({ where: { id: b.id }, data: { posts: { create: { title: 'nested' } } } })
    await check()
  })

  it('a reader held between its query and its fill while a write moves a row out of its predicate fills nothing stale', async () => {
    const { a, b, posts } = await authors()
    const read = () => s.prisma.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    const held = holdNextSelect('Post')
    hold = held.hook
    const pending = read().then((r) => r)
    await held.held
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { authorId: b.id } })
    held.release()
    hold = undefined
    expect((await pending).map((p) => p.id)).toEqual([posts[0]?.id, posts[1]?.id]) // read before the write
    const now = await s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    for (let i = 0; i < 3; i++) expect(await read()).toEqual(now)
    if (c.tiers === 'two-tier') {
      const other = await s.instance()
      expect(await other.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })).toEqual(now)
    }
  })

  it('a list reader held between its query and its fill while a write changes a row it shows fills nothing stale', async () => {
    const { a, posts } = await authors()
    const read = () => s.prisma.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'desc' }, take: 1 })
    const held = holdNextSelect('Post')
    hold = held.hook
    const pending = read().then((r) => r)
    await held.held
    await s.prisma.post.update({ where: { id: posts[1]?.id }, data: { title: 'changed while held' } })
    held.release()
    hold = undefined
    expect((await pending)[0]?.title).toBe(posts[1]?.title) // read before the write
    const now = await s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'desc' }, take: 1 })
    for (let i = 0; i < 3; i++) expect(await read()).toEqual(now)
    if (c.tiers === 'two-tier') {
      const other = await s.instance()
      expect(await other.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'desc' }, take: 1 })).toEqual(now)
    }
  })

  it('a fill a write overtook is made again at once, and the next identical read joins it instead of missing', async () => {
    const { a, posts } = await authors()
    const read = () => s.prisma.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    const first = holdNextSelect('Post')
    hold = first.hook
    const pending = read().then((r) => r)
    await first.held
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { title: 'overtaking' } })
    const refills = s.prisma.$cache.stats().refills
    // The next SELECT of Post is the refill's: the held read's fill is stored under versions from before the write.
    const refill = holdNextSelect('Post')
    hold = refill.hook
    first.release()
    expect((await pending)[0]?.title).toBe(posts[0]?.title) // read before the write
    await refill.held
    hold = undefined
    expect(s.prisma.$cache.stats().refills).toBe(refills + 1)
    s.counting.reset()
    const next = read()
    refill.release()
    const now = await s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    expect(await next).toEqual(now)
    expect(now[0]?.title).toBe('overtaking')
    expect(s.counting.count(), 'the next read shared the refill').toBe(0)
    s.counting.reset()
    expect(await read()).toEqual(now)
    expect(s.counting.count(), 'and the refill is a hit after').toBe(0)
  })

  it('another instance sees a write to a row its cached predicate names', async () => {
    if (c.tiers !== 'two-tier') return
    const { a, posts } = await authors()
    const other = await s.instance()
    const read = (client: Setup['prisma']) =>
      client.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    await read(other)
    await s.prisma.post.update({ where: { id: posts[1]?.id }, data: { title: 'seen' } })
    const expected = await s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    // Bounded staleness: the other instance applies the bump when its bus delivers it.
    for (let i = 0; i < 100 && JSON.stringify(await read(other)) !== JSON.stringify(expected); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await read(other)).toEqual(expected)
  })

  it('a lost registry of schemes makes no predicate entry outlive a write', async () => {
    if (!s.redis) return
    const { a, b, posts } = await authors()
    const read = () => s.prisma.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
    await read()
    await s.redis.del(`{${s.prefix}}:s:Post`) // evicted, or FLUSHed along with nothing else
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { authorId: b.id } })
    expect(await read()).toEqual(await s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } }))
    // Reads register again, and precise invalidation goes on.
    await s.prisma.post.update({ where: { id: posts[1]?.id }, data: { title: 'again' } })
    expect(await read()).toEqual(await s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } }))
  })

  it("with invalidation: 'model', any write to the model makes every read of it miss", async () => {
    const model = await s.instance({ invalidation: 'model' })
    const { a, posts } = await authors()
    const read = () => model.post.findMany({ where: { authorId: a.id } })
    await read()
    await model.post.update({ where: { id: posts[2]?.id }, data: { title: 'other author' } })
    const stats = model.$cache.stats()
    await read()
    expect(model.$cache.stats().misses).toBe(stats.misses + 1)
  })

  it("what a write bumps does not depend on the writing instance's options: model or write-through writers", async () => {
    if (c.tiers !== 'two-tier') return
    const writers = [
      await s.instance({ invalidation: 'model' }),
      await s.instance({ models: { Post: { strategy: 'write-through' } } }),
    ]
    for (const writer of writers) {
      const { a, b, posts } = await authors()
      const read = () => s.prisma.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
      const expected = () => s.raw.post.findMany({ where: { authorId: a.id }, orderBy: { id: 'asc' } })
      const converged = async () => {
        for (let i = 0; i < 100 && JSON.stringify(await read()) !== JSON.stringify(await expected()); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        expect(await read()).toEqual(await expected())
      }
      await read()
      await writer.post.create({ data: { title: 'by another', authorId: a.id } })
      await converged()
      await writer.post.update({ where: { id: posts[0]?.id }, data: { authorId: b.id } })
      await converged()
      await writer.post.update({ where: { id: posts[1]?.id }, data: { views: 42 } })
      await converged()
      await writer.post.delete({ where: { id: posts[1]?.id } })
      await converged()
    }
  })
})
