// design invariant 5, docs/design.md: transactions and the cache. Interactive transactions never read or fill the cache, their
// writes are bumped after commit, a rollback leaves no trace; batch transactions run every item and complete.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix)('transactions: $provider / $tiers', (c) => {
  let s: Setup
  let id: number
  const find = () => s.prisma.user.findUniqueOrThrow({ where: { id } })

  beforeAll(async () => {
    s = await setupCase(c)
    id = (await s.raw.user.create({ data: { email: 'tx@x', name: 'before' } })).id
  })
  afterAll(() => s?.close())
  beforeEach(async () => {
    await s.raw.user.update({ where: { id }, data: { name: 'before' } })
    await s.prisma.$cache.invalidate({ models: ['User'] })
    s.counting.reset()
  })

  it('a rolled-back transaction leaves no cached trace', async () => {
    await find()
    const error = await s.prisma
      .$transaction(async (tx) => {
        await tx.user.update({ where: { id }, data: { name: 'uncommitted' } })
        expect((await tx.user.findUniqueOrThrow({ where: { id } })).name).toBe('uncommitted')
        throw new Error('roll back')
      })
      .catch((e: Error) => e.message)
    expect(error).toBe('roll back')
    expect((await find()).name).toBe('before')
    expect((await s.prisma.user.findMany({ where: { name: 'uncommitted' } })).length).toBe(0)
  })

  it('reads inside an interactive transaction see its own writes and are never cached', async () => {
    await find() // cached: "before"
    await s.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id }, data: { name: 'inside' } })
      s.counting.reset()
      expect((await tx.user.findUniqueOrThrow({ where: { id } })).name).toBe('inside')
      expect((await tx.user.findUniqueOrThrow({ where: { id }, cache: { ttl: 60 } })).name).toBe('inside')
      expect(s.counting.count()).toBe(2) // both went to the database
    })
    expect((await find()).name).toBe('inside')
  })

  // Two instances share versions only through Redis: with the in-process tier alone there is one instance.
  const twoTier = c.tiers === 'two-tier' ? it : () => undefined
  twoTier('other instances do not see the transaction before commit, and do after', async () => {
    const other = await s.instance()
    const otherFind = () => other.user.findUniqueOrThrow({ where: { id } })
    await otherFind()
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let written!: () => void
    const wrote = new Promise<void>((r) => {
      written = r
    })
    const tx = s.prisma.$transaction(async (t) => {
      await t.user.update({ where: { id }, data: { name: 'committed' } })
      written()
      await gate
    })
    await wrote
    try {
      // Another instance, on a connection of its own, must not see (nor cache) the uncommitted row.
      expect((await otherFind()).name).toBe('before')
    } finally {
      release()
    }
    await tx
    expect((await find()).name).toBe('committed')
    // The other instance sees it once the bump reaches it over the bus (within the staleness bound).
    await vi.waitFor(async () => expect((await otherFind()).name).toBe('committed'), { timeout: 5000 })
  })

  it('a batch transaction with an item that would hit completes and runs every item', async () => {
    await find()
    await s.prisma.user.count()
    s.counting.reset()
    const [user, count, updated] = await s.prisma.$transaction([
      find(),
      s.prisma.user.count(),
      s.prisma.user.update({ where: { id }, data: { name: 'batched' } }),
    ])
    expect(user.name).toBe('before') // the batch read ran before the batch update
    expect(count).toBeGreaterThan(0)
    expect(updated.name).toBe('batched')
    expect(s.counting.count()).toBeGreaterThanOrEqual(3)
    expect((await find()).name).toBe('batched')
  })

  it('nested transactions commit with the outer one', async () => {
    await find()
    await s.prisma.$transaction(async (tx) => {
      await tx.$transaction(async (inner) => {
        await inner.user.update({ where: { id }, data: { name: 'nested' } })
      })
      expect((await tx.user.findUniqueOrThrow({ where: { id } })).name).toBe('nested')
    })
    expect((await find()).name).toBe('nested')
  })

  it('a fluent call inside a batch transaction joins the batch', async () => {
    const [posts] = await s.prisma.$transaction([s.prisma.user.findUnique({ where: { id } }).posts()])
    expect(posts).toEqual([])
  })

  // Prisma 7.10 merges two or more fluent findUniqueOrThrow of one batch (or one tick) into one query and then
  // answers undefined for a missing row, where the same read alone throws. Strata's reads throw in every context.
  it('fluent *OrThrow reads of a missing row throw in a batch, at once and alone alike', async () => {
    const missing = id + 1000
    const fluent = () => s.prisma.user.findUniqueOrThrow({ where: { id: missing } }).invitedBy()
    const code = (e: { code?: string }) => e.code
    expect(await fluent().then(() => 'answered', code)).toBe('P2025')
    expect(await s.prisma.$transaction([fluent(), fluent()]).then(() => 'answered', code)).toBe('P2025')
    expect(await Promise.all([fluent(), fluent()]).then(() => 'answered', code)).toBe('P2025')
    // A read the cache never answers is sent the same way.
    const off = () => s.prisma.user.findUniqueOrThrow({ where: { id: missing }, cache: false }).invitedBy()
    expect(await s.prisma.$transaction([off(), off()]).then(() => 'answered', code)).toBe('P2025')
    // Along the path, a row that exists answers as it does alone.
    const [inviter, posts] = await s.prisma.$transaction([
      s.prisma.user.findUniqueOrThrow({ where: { id } }).invitedBy(),
      s.prisma.user.findUniqueOrThrow({ where: { id } }).posts(),
    ])
    expect([inviter, posts]).toEqual([null, []])
  })
})
