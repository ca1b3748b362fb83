// ioredis 6 (what `npm i ioredis` installs today) as the application's client: Strata's scripts, binary frames,
// leases and the bus work with it exactly as with ioredis 5 (the rest of the suite). Two instances on one
// throwaway redis-server, each answer compared with an uncached client.
import { Redis as Redis6 } from 'ioredis6'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

describe('ioredis 6 clients', () => {
  let server: LocalServer
  let db: TestDatabase
  let raw: RawClient
  const redises: Redis6[] = []
  const instances: CachedClient[] = []
  const instance = async (options: Parameters<typeof cache>[0] = {}) => {
    const redis = new Redis6(server.url)
    redises.push(redis)
    const client = newClient('sqlite', db.adapter()).$extends(cache({ redis, prefix: 'io6', lease: true, ...options }))
    instances.push(client)
    await waitForBus(client)
    return client
  }

  beforeAll(async () => {
    server = await startRedisServer()
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
  })
  afterAll(async () => {
    for (const i of instances) await i.$disconnect()
    for (const r of redises) r.disconnect()
    await raw?.$disconnect()
    await db?.drop()
    await server?.stop()
  })

  it('fills, Redis hits across instances, bus invalidation and write-through rows', async () => {
    const [a, b] = [await instance(), await instance({ models: { User: { strategy: 'write-through' } } })]
    // Scripts are loaded on NOSCRIPT: start from an empty script cache.
    await redises[0]?.script('FLUSH')
    const user = await raw.user.create({ data: { email: 'io6@x', name: 'v1', posts: { create: { title: 't' } } } })
    const list = { where: { id: user.id }, include: { posts: true } }
    await a.user.findUnique(list)
    expect(await b.user.findUnique(list)).toEqual(await raw.user.findUnique(list))
    expect(b.$cache.stats().redisHits).toBe(1)

    await a.post.create({ data: { title: 'second', authorId: user.id } })
    // The bus carries a's bump to b; poll b until it has applied it (no wall-clock bound: see instances.test.ts).
    for (let i = 0; i < 500; i++) {
      if ((await b.user.findUnique(list))?.posts.length === 2) break
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(await b.user.findUnique(list)).toEqual(await raw.user.findUnique(list))

    // Write-through point reads: rows are Redis hashes read and put by scripts with binary replies.
    const point = { where: { id: user.id } }
    expect(await b.user.findUnique(point)).toEqual(await raw.user.findUnique(point))
    await b.user.update({ where: { id: user.id }, data: { name: 'v2' } })
    b.$cache.resetStats()
    expect(await b.user.findUnique(point)).toEqual(await raw.user.findUnique(point))
    expect(b.$cache.stats().misses).toBe(0)
    expect(a.$cache.stats().errors).toEqual({})
    expect(b.$cache.stats().errors).toEqual({})
  })
})
