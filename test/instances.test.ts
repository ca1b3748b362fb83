// Several instances, one Redis: a write in one is seen by the others through the bus; an entry one instance
// filled is a Redis hit for the others; a bus connection that drops makes an instance forget what it knew.
// Each test runs its own redis-server, so it can kill connections without touching anyone else's.
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

async function until(what: string, check: () => boolean, ms = 5000) {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe.each(['sqlite', 'postgres', 'mysql'] as const)('instances on %s', (provider) => {
  let server: LocalServer
  let db: TestDatabase
  let raw: RawClient
  const instances: CachedClient[] = []
  const instance = async () => {
    const client = newClient(provider, db.adapter()).$extends(cache({ redis: server.url, prefix: 'inst' }))
    instances.push(client)
    await waitForBus(client)
    return client
  }

  beforeAll(async () => {
    server = await startRedisServer()
    db = await newDatabase(provider)
    raw = newClient(provider, db.adapter())
  })
  afterAll(async () => {
    for (const i of instances) {
      await i.$cache.close()
      await i.$disconnect()
    }
    await raw?.$disconnect()
    await db?.drop()
    await server?.stop()
  })

  it('an entry filled by one instance is a Redis hit for another, and a write in one reaches the others', async () => {
    const [a, b] = [await instance(), await instance()]
    const user = await raw.user.create({ data: { email: `x-${provider}@x`, name: 'v1' } })
    const args = { where: { id: user.id }, include: { posts: true } }
    await a.user.findUnique(args)
    expect(await b.user.findUnique(args)).toEqual(await raw.user.findUnique(args))
    expect(b.$cache.stats().redisHits).toBe(1)
    await b.user.findUnique(args)
    expect(b.$cache.stats().localHits).toBe(1)

    const before = await b.$cache.versionTag({ models: ['Post'] })
    await a.post.create({ data: { title: 'new', authorId: user.id } })
    // Until the bus message arrives, b may serve what it holds; from the moment it has applied it (its version of
    // Post changed), never again. How long that takes across processes, stalls excluded, is what the consistency
    // test bounds; a wall-clock bound here would measure the machine's load. Local hits resolve in microtasks, so
    // the loop yields to I/O between reads, as a server handling requests does.
    let seen = await b.user.findUnique(args)
    while ((await b.$cache.versionTag({ models: ['Post'] })) === before) {
      expect(seen?.posts.length).toBe(0)
      await new Promise((r) => setTimeout(r, 1))
      seen = await b.user.findUnique(args)
    }
    expect((await b.user.findUnique(args))?.posts.length).toBe(1)
  })

  it('after its bus connection is killed, an instance never serves what a write made stale once resubscribed', async () => {
    const [a, b] = [await instance(), await instance()]
    const user = await raw.user.create({ data: { email: `k-${provider}@x`, name: 'old' } })
    const read = () => b.user.findUniqueOrThrow({ where: { id: user.id } })
    await read()
    await read() // b holds "old" locally

    const admin = new Redis(server.url)
    const subscribers = async () => Number(((await admin.pubsub('NUMSUB', 'inst:bus')) as [string, number])[1])
    const before = await subscribers()
    await admin.client('KILL', 'TYPE', 'pubsub')
    await a.user.update({ where: { id: user.id }, data: { name: 'new' } }) // published while b is not listening
    // The drop and the resubscription can both happen between two polls of `ready`: wait instead until every
    // instance has subscribed on a new connection (which comes after its drop was handled), then until b trusts it.
    let back = await subscribers()
    for (const start = Date.now(); back < before && Date.now() - start < 5000; back = await subscribers()) {
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(back).toBe(before)
    await until('b to trust its new subscription', () => b.$cache.ready)
    admin.disconnect()
    for (let i = 0; i < 5; i++) expect((await read()).name).toBe('new')
  })
})
