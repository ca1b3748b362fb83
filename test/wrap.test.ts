// $cache.wrap: read-through for values that are not Prisma reads, with the same tiers, single flight and
// invalidation (by the models it depends on, and by tags).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix)('$cache.wrap: $provider / $tiers', (c) => {
  let s: Setup
  beforeAll(async () => {
    s = await setupCase(c)
    await s.raw.post.createMany({
      data: [
        { title: 'a', views: 3 },
        { title: 'b', views: 4 },
      ],
    })
  })
  afterAll(() => s?.close())

  it('runs the loader once for concurrent callers, then serves the cached value', async () => {
    let runs = 0
    const loader = async () => {
      runs++
      const posts = await s.raw.post.findMany()
      return { total: posts.reduce((n, p) => n + p.views, 0), at: new Date(0), big: 10n }
    }
    const values = await Promise.all(Array.from({ length: 20 }, () => s.prisma.$cache.wrap('views-total', loader)))
    expect(runs).toBe(1)
    expect(values.every((v) => v.total === 7 && v.at instanceof Date && v.big === 10n)).toBe(true)
    values[0]!.total = -1 // callers get their own copies
    expect((await s.prisma.$cache.wrap('views-total', loader)).total).toBe(7)
    expect(runs).toBe(1)
  })

  it('a write to a model it depends on makes it stale; so does invalidating one of its tags', async () => {
    let runs = 0
    const loader = async () => {
      runs++
      return (await s.raw.post.aggregate({ _sum: { views: true } }))._sum.views
    }
    const options = { dependsOn: ['Post'], tags: ['stats'] }
    expect(await s.prisma.$cache.wrap('sum', loader, options)).toBe(7)
    await s.prisma.post.create({ data: { title: 'c', views: 10 } })
    expect(await s.prisma.$cache.wrap('sum', loader, options)).toBe(17)
    expect(runs).toBe(2)
    await s.prisma.$cache.invalidate({ tags: ['stats'] })
    await s.prisma.$cache.wrap('sum', loader, options)
    expect(runs).toBe(3)
    await s.prisma.$cache.wrap('sum', loader, options)
    expect(runs).toBe(3)
  })

  it('a value filled under other dependsOn or tags is another entry: it is made stale by its own', async () => {
    const users = () => s.raw.user.count()
    await s.prisma.$cache.wrap('users', users, { dependsOn: ['Post'] })
    expect(await s.prisma.$cache.wrap('users', users, { dependsOn: ['User'] })).toBe(await users())
    await s.prisma.user.create({ data: { email: 'wrap@x' } })
    expect(await s.prisma.$cache.wrap('users', users, { dependsOn: ['User'] })).toBe(await users())

    let runs = 0
    const counted = () => ++runs
    await s.prisma.$cache.wrap('tagged', counted, { tags: ['a'] })
    await s.prisma.$cache.wrap('tagged', counted, { tags: ['b'] })
    await s.prisma.$cache.invalidate({ tags: ['b'] })
    expect(await s.prisma.$cache.wrap('tagged', counted, { tags: ['b'] })).toBe(3)
    expect(await s.prisma.$cache.wrap('tagged', counted, { tags: ['a'] })).toBe(1)
  })

  it('rejects a model it does not know', () => {
    expect(() => s.prisma.$cache.wrap('x', () => 1, { dependsOn: ['Nope'] })).toThrow(/`Nope`, which is not a model/)
  })
})
