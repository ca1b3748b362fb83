// Strata among other extensions: stacked above it, below it, and through transactions of the stacked client.
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { countingAdapter } from './support/counting-adapter.ts'
import { newClient, newDatabase, type RawClient } from './support/matrix.ts'

describe('stacked extensions', () => {
  let db: TestDatabase
  let raw: RawClient
  beforeAll(async () => {
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
    await raw.user.create({ data: { email: 's@x', posts: { create: { title: 'p' } } } })
  })
  afterAll(async () => {
    await raw?.$disconnect()
    await db?.drop()
  })

  it('another extension on top of Strata: reads hit, fluent calls, writes and transactions work; it is reported', async () => {
    const counting = countingAdapter(db.adapter() as never)
    const seen: string[] = []
    const errors: string[] = []
    const prisma = newClient('sqlite', counting.adapter)
      .$extends(cache({ onError: (e) => errors.push(e.code) }))
      .$extends({
        query: {
          $allModels: {
            async $allOperations({ operation, args, query }) {
              seen.push(operation)
              return query(args)
            },
          },
        },
        model: {
          user: {
            byEmail(email: string) {
              return email
            },
          },
        },
      })
    try {
      const first = await prisma.user.findMany({ include: { posts: true } })
      counting.reset()
      expect(await prisma.user.findMany({ include: { posts: true } })).toEqual(first)
      expect(counting.count()).toBe(0)
      expect(await prisma.user.findUniqueOrThrow({ where: { id: first[0]!.id } }).posts()).toHaveLength(1)
      await prisma.$transaction(async (tx) => {
        await tx.post.create({ data: { title: 'q', authorId: first[0]!.id } })
        expect(await tx.post.count()).toBe(2)
      })
      expect((await prisma.user.findMany({ include: { posts: true } }))[0]?.posts).toHaveLength(2)
      expect(seen).toContain('create')
      // Its read hooks cannot see cached reads: Strata says so instead of staying silent.
      expect(errors).toContain('E_NOT_OUTERMOST')
    } finally {
      await prisma.$cache.close()
      await prisma.$disconnect()
    }
  })

  it('cache() last: reads in and out of transactions report nothing', async () => {
    const errors: string[] = []
    const prisma = newClient('sqlite', db.adapter()).$extends(cache({ onError: (e) => errors.push(e.code) }))
    try {
      await prisma.user.findMany()
      await prisma.$transaction(async (tx) => {
        await tx.user.findMany()
        await tx.user.findFirst()
      })
      await prisma.$transaction([prisma.user.findMany(), prisma.user.count()])
      expect(errors).toEqual([])
    } finally {
      await prisma.$cache.close()
      await prisma.$disconnect()
    }
  })

  it('Strata on top of another extension: reads go through it on a miss, not on a hit', async () => {
    const seen: string[] = []
    const prisma = newClient('sqlite', db.adapter())
      .$extends({
        query: {
          $allModels: {
            async findMany({ args, query }) {
              seen.push('findMany')
              return query(args)
            },
          },
        },
      })
      .$extends(cache())
    try {
      await prisma.user.findMany()
      await prisma.user.findMany()
      expect(seen).toEqual(['findMany'])
      expect(prisma.$cache.stats().localHits).toBe(1)
    } finally {
      await prisma.$cache.close()
      await prisma.$disconnect()
    }
  })
})
