// Views: the database computes them from tables Strata cannot see. A view is cached only under the models it
// names (`dependsOn`), or for its TTL alone when it names none (`dependsOn: []`); otherwise it is not cached.
import { cache, StrataOptionsError } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schema } from '../generated/sqlite/strata/index.js'
import { caseName, matrix, type Setup, setupCase } from './support/matrix.ts'

const stats = (client: Setup['raw'] | Setup['prisma']) =>
  (client as Setup['raw']).postStats.findMany({ orderBy: { authorId: 'asc' } })

describe.each(matrix)('views: $provider / $tiers', (c) => {
  let s: Setup
  let authorId = 0
  beforeAll(async () => {
    s = await setupCase(c)
    authorId = (await s.raw.user.create({ data: { email: `v-${caseName(c)}`, posts: { create: { title: 'a' } } } })).id
  })
  afterAll(() => s?.close())

  it('is cached under the models its annotation names: a write to them is seen', async () => {
    expect(await stats(s.prisma)).toEqual(await stats(s.raw))
    s.counting.reset()
    expect(await stats(s.prisma)).toEqual(await stats(s.raw))
    expect(s.counting.count()).toBe(0)
    await s.prisma.post.create({ data: { title: 'b', views: 7, authorId } })
    expect(await stats(s.prisma)).toEqual(await stats(s.raw))
    await s.prisma.post.updateMany({ where: { authorId }, data: { views: { increment: 1 } } })
    expect(await s.prisma.postStats.findUnique({ where: { authorId } })).toEqual(
      await s.raw.postStats.findUnique({ where: { authorId } }),
    )
  })

  it('without dependsOn, is not cached', async () => {
    const { PostStats, ...models } = schema.models
    const { policy: _policy, ...unannotated } = PostStats ?? { dbName: '', id: [], uniques: [] }
    const prisma = await s.instance({ schema: { ...schema, models: { ...models, PostStats: unannotated } } })
    await stats(prisma)
    await s.prisma.post.create({ data: { title: 'c', authorId } })
    expect(await stats(prisma)).toEqual(await stats(s.raw))
    expect(prisma.$cache.stats()).toMatchObject({ localHits: 0, redisHits: 0, bypasses: 2 })
  })

  it('with dependsOn: [], is cached for its TTL alone (and $cache.invalidate)', async () => {
    const prisma = await s.instance({ models: { PostStats: { dependsOn: [] } } })
    const before = await stats(prisma)
    expect(await stats(prisma)).toEqual(before)
    expect(prisma.$cache.stats().localHits).toBe(1)
    await s.raw.post.create({ data: { title: 'd', authorId } })
    await prisma.$cache.invalidate({ models: ['PostStats'] })
    expect(await stats(prisma)).toEqual(await stats(s.raw))
  })

  it('an invalid dependsOn is refused at cache(...) with what to fix', () => {
    const build = (models: object) => () => s.raw.$extends(cache({ models: models as never }))
    expect(build({ PostStats: { dependsOn: ['Nope'] } })).toThrow(StrataOptionsError)
    expect(build({ PostStats: { dependsOn: ['Nope'] } })).toThrow(/dependsOn names `Nope`, not a model of this client/)
    expect(build({ PostStats: { dependsOn: 'Post' } })).toThrow(/must be a list of model names/)
    expect(build({ PostStats: { dependsOn: ['Post'], strategy: 'write-through' } })).toThrow(/is a view/)
  })
})
