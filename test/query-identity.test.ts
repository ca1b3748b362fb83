// What keys an entry is what makes its answer Prisma's: field order follows the query's own selection, a custom
// `cache.key` is scoped by model and operation, and a point read Prisma rejects is rejected as Prisma does.
// Every answer is compared with an uncached client's, down to `JSON.stringify` (key order included).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

const json = (value: unknown) => JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v))

describe.each(matrix)('query identity: $provider / $tiers', (c) => {
  let s: Setup

  beforeAll(async () => {
    s = await setupCase(c, { models: { Post: { strategy: 'write-through' }, Team: { strategy: 'write-through' } } })
    await s.raw.user.create({ data: { id: 1, email: 'a@x', name: 'A', posts: { create: { id: 1, title: 't' } } } })
    await s.raw.team.create({ data: { id: 1, name: 'team' } })
  })
  afterAll(() => s?.close())

  it('fields come in the order the query selects them, whichever query filled the entry', async () => {
    const pairs: Array<[(p: Setup['raw'], flip: boolean) => Promise<unknown>]> = [
      [(p, flip) => p.post.findMany({ select: flip ? { title: true, id: true } : { id: true, title: true } })],
      // A write-through point read: projected from the whole row.
      [
        (p, flip) =>
          p.post.findUnique({ where: { id: 1 }, select: flip ? { title: true, id: true } : { id: true, title: true } }),
      ],
      [
        (p, flip) =>
          p.user.findMany({
            select: flip
              ? { posts: { select: { title: true, id: true } }, name: true }
              : { name: true, posts: { select: { id: true, title: true } } },
          }),
      ],
      [(p, flip) => p.user.findMany({ include: flip ? { _count: true, posts: true } : { posts: true, _count: true } })],
    ]
    for (const [read] of pairs) {
      await read(s.prisma as never, false)
      expect(json(await read(s.prisma as never, true))).toBe(json(await read(s.raw, true)))
      expect(json(await read(s.prisma as never, false))).toBe(json(await read(s.raw, false)))
    }
  })

  it('a write-through point read that selects no field is rejected as Prisma rejects it', async () => {
    const rejected = [
      { where: { id: 1 }, select: {} },
      { where: { id: 1 }, select: { id: false, name: false } },
      { where: { id: 1 }, omit: { id: true, name: true } },
    ]
    for (const args of rejected) {
      const expected = await s.raw.team.findUnique(args as never).catch((e: Error) => e.constructor.name)
      expect(expected).toBe('PrismaClientValidationError')
      await s.prisma.team.findUnique({ where: { id: 1 } }) // the row is cached
      expect(await s.prisma.team.findUnique(args as never).catch((e: Error) => e.constructor.name)).toBe(expected)
    }
  })

  it('a custom cache key names an entry of one model and operation', async () => {
    const cache = { key: 'shared-name' }
    expect(await s.prisma.post.findMany({ cache })).toEqual(await s.raw.post.findMany())
    expect(await s.prisma.post.count({ cache })).toBe(await s.raw.post.count())
    expect(await s.prisma.user.findFirst({ cache })).toEqual(await s.raw.user.findFirst())
    expect(await s.prisma.user.findFirstOrThrow({ cache })).toEqual(await s.raw.user.findFirst())
    // Still an entry: served without SQL the second time.
    s.counting.reset()
    await s.prisma.post.count({ cache })
    expect(s.counting.count()).toBe(0)
  })
})
