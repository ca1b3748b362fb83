// ADVERSARY (arrivals versions for fine lists; refills of overtaken fills). Every answer of the cached client is
// compared with the uncached oracle at a point where they must agree. Races are forced with held statements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdNextSelect } from '../support/hold-statement.ts'
import { matrix, type Setup, setupCase } from '../support/matrix.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(matrix)('arrivals and refills: $provider / $tiers', (c) => {
  let s: Setup
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let seq = 0

  beforeAll(async () => {
    s = await setupCase(
      c,
      {},
      {
        afterQuery: (sql) => {
          return hold?.(sql)
        },
      },
    )
  })
  afterAll(() => s?.close())

  const cached = () => s.prisma as unknown as Setup['raw']

  /** One author with `n` posts. */
  async function author(n = 3) {
    const k = ++seq
    const a = await s.raw.user.create({ data: { email: `a${k}-${Date.now()}@x`, name: 'a' } })
    const posts = []
    for (let i = 0; i < n; i++) posts.push(await s.raw.post.create({ data: { title: `t${k}-${i}`, authorId: a.id } }))
    return { a, posts }
  }

  /** Waits (bounded) until the refills counter reached `n` and background work settled. */
  async function refillsDone(n: number) {
    for (let i = 0; i < 200 && s.prisma.$cache.stats().refills < n; i++) await sleep(5)
    await sleep(50)
  }

  it('a refill runs the caller args as they are when it runs, not as they were: a paging loop reusing its args object', async () => {
    const { a, posts } = await author(3)
    // A paging loop: one args object, `skip` advanced after each page.
    const args = { where: { authorId: a.id }, orderBy: { id: 'asc' as const }, take: 1, skip: 0 }
    const held = holdNextSelect('Post')
    hold = held.hook
    const pending = cached()
      .post.findMany(args)
      .then((r) => r)
    await held.held
    hold = undefined
    // A write that overtakes the held read: its fill is stored under versions from before it, a refill starts.
    await s.prisma.post.update({ where: { id: posts[2]?.id }, data: { title: 'overtaking' } })
    const refills = s.prisma.$cache.stats().refills
    held.release()
    const page0 = await pending
    args.skip += 1 // the next page: the app owns its object once the read returned
    const page1 = await cached().post.findMany(args)
    await refillsDone(refills + 1)
    const fresh = { where: { authorId: a.id }, orderBy: { id: 'asc' as const }, take: 1, skip: 0 }
    expect(page0.map((p) => p.id)).toEqual([posts[0]?.id])
    expect(page1.map((p) => p.id)).toEqual([posts[1]?.id])
    expect(await cached().post.findMany(fresh)).toEqual(await s.raw.post.findMany(fresh))
  })

  it('a refill runs nested args mutated after the read returned (where reused for another author)', async () => {
    const { a, posts } = await author(2)
    const { a: b } = await author(2)
    const where = { authorId: a.id }
    const held = holdNextSelect('Post')
    hold = held.hook
    const pending = cached()
      .post.findMany({ where, orderBy: { id: 'desc' }, take: 2, cache: { ttl: 60 } } as never)
      .then((r) => r)
    await held.held
    hold = undefined
    await s.prisma.post.update({ where: { id: posts[0]?.id }, data: { title: 'overtaking' } })
    const refills = s.prisma.$cache.stats().refills
    held.release()
    await pending
    where.authorId = b.id // the app reuses its `where` object
    await refillsDone(refills + 1)
    const list = { where: { authorId: a.id }, orderBy: { id: 'desc' as const }, take: 2 }
    expect(await cached().post.findMany({ ...list, cache: { ttl: 60 } } as never)).toEqual(
      await s.raw.post.findMany(list),
    )
  })

  /** Holds a read of `read` at its SQL, overtakes it with `write`, then holds the refill's SQL; returns controls. */
  async function overtakeAndHoldRefill(read: () => Promise<unknown>, write: () => Promise<unknown>) {
    const first = holdNextSelect('Post')
    hold = first.hook
    const pending = Promise.resolve(read()) // a read is lazy: started once awaited
    await first.held
    await write()
    const refills = s.prisma.$cache.stats().refills
    const refill = holdNextSelect('Post')
    hold = refill.hook
    first.release()
    await pending
    await refill.held
    hold = undefined
    expect(s.prisma.$cache.stats().refills).toBe(refills + 1)
    return refill
  }

  it('a read begun after a second write never shares a refill whose SQL ran before it (same process)', async () => {
    const { a, posts } = await author(3)
    const list = { where: { authorId: a.id }, orderBy: { id: 'desc' as const }, take: 2 }
    const read = () => cached().post.findMany(list)
    const refill = await overtakeAndHoldRefill(read, () =>
      s.prisma.post.update({ where: { id: posts[2]?.id }, data: { title: 'w1' } }),
    )
    // The refill's SELECT has its result (before w2) and is held: w2 returns, then a read starts.
    await s.prisma.post.update({ where: { id: posts[2]?.id }, data: { title: 'w2' } })
    const after = Promise.resolve(read())
    refill.release()
    expect(await after).toEqual(await s.raw.post.findMany(list))
    await sleep(50)
    expect(await read()).toEqual(await s.raw.post.findMany(list))
    // A delete of a shown row while the refill is held (another list text, so that it misses first).
    const list2 = { where: { authorId: a.id }, orderBy: { id: 'desc' as const }, take: 1 }
    const read2 = () => cached().post.findMany(list2)
    const refill2 = await overtakeAndHoldRefill(read2, () =>
      s.prisma.post.update({ where: { id: posts[1]?.id }, data: { title: 'w3' } }),
    )
    await s.prisma.post.delete({ where: { id: posts[2]?.id } })
    const after2 = Promise.resolve(read2())
    refill2.release()
    expect(await after2).toEqual(await s.raw.post.findMany(list2))
    await sleep(50)
    expect(await read2()).toEqual(await s.raw.post.findMany(list2))
  })

  it('a refill held while another instance writes: reads after its bus delivered agree', async () => {
    if (c.tiers !== 'two-tier') return
    const other = await s.instance()
    const { a, posts } = await author(3)
    const list = { where: { authorId: a.id }, orderBy: { id: 'desc' as const }, take: 2 }
    const read = () => cached().post.findMany(list)
    const refill = await overtakeAndHoldRefill(read, () =>
      s.prisma.post.update({ where: { id: posts[2]?.id }, data: { title: 'w1' } }),
    )
    await other.post.delete({ where: { id: posts[2]?.id } })
    const expected = await s.raw.post.findMany(list)
    // Until the bus delivered here: a read of a version the other's write bumped.
    for (let i = 0; i < 200; i++) {
      const v = await s.prisma.$cache.versionTag({ models: ['Post'] })
      const w = await other.$cache.versionTag({ models: ['Post'] })
      if (v === w) break
      await sleep(5)
    }
    await sleep(100)
    const after = Promise.resolve(read())
    refill.release()
    expect(await after).toEqual(expected)
    expect(await read()).toEqual(expected)
  })

  it('a refill of a findFirstOrThrow of no row, while the row is created, answers as the database', async () => {
    const { a } = await author(0)
    const args = { where: { authorId: a.id }, orderBy: { id: 'desc' as const } }
    const read = () =>
      cached()
        .post.findFirstOrThrow(args)
        .then(
          (r) => r,
          (e) => (e as { code?: string }).code ?? 'error',
        )
    const oracle = () =>
      s.raw.post.findFirstOrThrow(args).then(
        (r) => r,
        (e) => (e as { code?: string }).code ?? 'error',
      )
    let created: { id: number } | undefined
    const refill = await overtakeAndHoldRefill(read, async () => {
      created = await s.prisma.post.create({ data: { title: 'arrives', authorId: a.id } })
    })
    await s.prisma.post.delete({ where: { id: created?.id } })
    const after = read()
    const plain = cached().post.findFirst(args)
    refill.release()
    expect(await after).toEqual(await oracle())
    expect(await plain).toEqual(await s.raw.post.findFirst(args))
    await sleep(50)
    expect(await read()).toEqual(await oracle())
  })

  it('a write storm on one list: SQL per read stays bounded and every answer after a write agrees', async () => {
    const { a, posts } = await author(3)
    const list = { where: { authorId: a.id }, orderBy: { id: 'desc' as const }, take: 2 }
    await cached().post.findMany(list)
    await sleep(50)
    const rounds = 40
    s.counting.reset()
    for (let i = 0; i < rounds; i++) {
      // Each round: one write to a shown row and four reads under way with it.
      await Promise.all([
        s.prisma.post.update({ where: { id: posts[2]?.id }, data: { views: { increment: 1 } } }),
        ...Array.from({ length: 4 }, () => Promise.resolve(cached().post.findMany(list))),
      ])
      expect(await cached().post.findMany(list)).toEqual(await s.raw.post.findMany(list))
    }
    await sleep(100)
    const statements = s.counting.count()
    console.log(
      `${c.provider}/${c.tiers}: ${rounds} rounds, ${statements} statements, refills ${s.prisma.$cache.stats().refills}`,
    )
    // One write (at most a few statements) and one or two reads per round is what a cache without refills costs.
    expect(statements / rounds).toBeLessThan(8)
  })
})
