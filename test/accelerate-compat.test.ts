// Code written for Prisma Accelerate runs unchanged: `cacheStrategy: { ttl, swr, tags }` is Strata's per-query
// `cache`, and tags invalidate through `$cache.invalidate` (Accelerate's `$accelerate.invalidate`).
import { cache, StrataOptionsError } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CountingAdapter, countingAdapter } from './support/counting-adapter.ts'
import { newClient, newDatabase } from './support/matrix.ts'

describe('cacheStrategy (Accelerate)', () => {
  let db: TestDatabase
  let counting: CountingAdapter<unknown>
  const make = () => newClient('sqlite', counting.adapter).$extends(cache())
  let prisma: ReturnType<typeof make>
  beforeAll(async () => {
    db = await newDatabase('sqlite')
    counting = countingAdapter(db.adapter() as never) as CountingAdapter<unknown>
    prisma = make()
    await prisma.user.create({ data: { email: 'acc@x', posts: { create: { title: 'p', published: true } } } })
  })
  afterAll(async () => {
    await prisma?.$disconnect()
    await db?.drop()
  })

  it('caches like `cache`, and its tags invalidate', async () => {
    const args = { where: { published: true }, cacheStrategy: { ttl: 60, swr: 5, tags: ['feed'] } }
    const first = await prisma.post.findMany(args)
    counting.reset()
    expect(await prisma.post.findMany(args)).toEqual(first)
    expect(counting.count()).toBe(0)
    // The same query under `cache` with the same tags is the same entry.
    expect(await prisma.post.findMany({ where: { published: true }, cache: { ttl: 60, tags: ['feed'] } })).toEqual(
      first,
    )
    expect(counting.count()).toBe(0)
    await prisma.$cache.invalidate({ tags: ['feed'] })
    await prisma.post.findMany(args)
    expect(counting.count()).toBe(1)
  })

  it('is validated like `cache`, and both at once is an error (when the read is awaited, as Prisma does it)', async () => {
    await expect(prisma.post.findMany({ cacheStrategy: { ttl: -1 } })).rejects.toThrow(StrataOptionsError)
    // An array is not options, for either name.
    await expect(prisma.post.findMany({ cacheStrategy: [] as never })).rejects.toThrow(/must be an object/)
    await expect(prisma.post.findMany({ cache: [] as never })).rejects.toThrow(/must be `false` or an object/)
    await expect(prisma.post.findMany({ cache: false, cacheStrategy: { ttl: 1 } } as never)).rejects.toThrow(/not both/)
  })
})
