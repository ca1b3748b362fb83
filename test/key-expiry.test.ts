// Every key Strata writes expires: entries, rows, aliases, leases, and the versions they name (models, tags, row
// epochs, the timeline), so Redis memory stays bounded however many tags or rows come and go.
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { newClient, newDatabase, type RawClient } from './support/matrix.ts'
import { redisUrl } from './support/services.ts'

describe('key expiry', () => {
  let db: TestDatabase
  let raw: RawClient
  let admin: Redis

  beforeAll(async () => {
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
    admin = new Redis(await redisUrl())
  })
  afterAll(async () => {
    admin?.disconnect()
    await raw?.$disconnect()
    await db?.drop()
  })

  it('after many tag reads and writes, every key under the prefix has a TTL', async () => {
    const prefix = `exp${process.pid}x${Date.now().toString(36)}`
    const prisma = newClient('sqlite', db.adapter()).$extends(
      cache({ redis: await redisUrl(), prefix, lease: true, models: { Post: { strategy: 'write-through' } } }),
    )
    const user = await raw.user.create({ data: { email: 'exp@x', name: 'n' } })
    const post = await raw.post.create({ data: { title: 'p', authorId: user.id } })
    for (let i = 0; i < 200; i++) {
      const tags = [`tag-${i}`]
      await prisma.user.findMany({ where: { id: user.id }, cache: { tags } })
      await prisma.$cache.wrap(`value-${i}`, () => i, { tags, dependsOn: ['Post'] })
      if (i % 4 === 0) await prisma.$cache.invalidate({ tags })
      if (i % 10 === 0) {
        await prisma.post.findUnique({ where: { id: post.id } })
        await prisma.post.findUnique({ where: { authorId_title: { authorId: user.id, title: `p${i - 10}` } } })
        await prisma.post.update({ where: { id: post.id }, data: { title: `p${i}` } })
        await prisma.post.updateMany({ where: { id: post.id }, data: { views: i } })
      }
    }
    await prisma.$cache.close() // fills and puts still on their way land first
    await prisma.$disconnect()

    const keys: string[] = []
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      let cursor = '0'
      do {
        const [next, found] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        keys.push(...found)
        cursor = next
      } while (cursor !== '0')
    }
    expect(keys.filter((k) => k.includes(':v:t:')).length).toBeGreaterThan(0) // tag versions
    const forever: string[] = []
    for (const key of keys) if ((await admin.pttl(key)) < 0) forever.push(key)
    expect(forever).toEqual([])
  })
})
