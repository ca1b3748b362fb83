// design invariant 2, docs/design.md: a version key that disappears (eviction, FLUSHALL, failover) or holds foreign bytes comes
// back at a value never used before, so no entry filled under an old value can match again.
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

describe('version keys', () => {
  let server: LocalServer
  let admin: Redis
  let db: TestDatabase
  let raw: RawClient
  let prisma: CachedClient
  const versionKey = '{ver}:v:m:User'
  const version = async () => Number(await admin.get(versionKey))

  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
    // Reads by model: they depend on `m:User`, the key this test watches (a read by id would depend on its predicate).
    prisma = newClient('sqlite', db.adapter()).$extends(
      cache({ redis: server.url, prefix: 'ver', invalidation: 'model' }),
    )
    await waitForBus(prisma)
  })
  afterAll(async () => {
    await prisma?.$cache.close()
    await prisma?.$disconnect()
    await raw?.$disconnect()
    admin?.disconnect()
    await db?.drop()
    await server?.stop()
  })

  it('are seeded from Redis TIME and only ever grow, whatever happens to them', async () => {
    const user = await prisma.user.create({ data: { email: 'v@x', name: 'one' } })
    const seen = [await version()]
    expect(seen[0]).toBeGreaterThan(1e15) // microseconds since the epoch
    const read = async () => {
      // A fresh instance: nothing known locally, everything asked of Redis.
      const other = newClient('sqlite', db.adapter()).$extends(
        cache({ redis: server.url, prefix: 'ver', invalidation: 'model' }),
      )
      await waitForBus(other)
      const row = await other.user.findUniqueOrThrow({ where: { id: user.id } })
      await other.$cache.close()
      await other.$disconnect()
      return row.name
    }
    await prisma.user.findUnique({ where: { id: user.id } }) // an entry under the current version

    await admin.del(versionKey) // evicted
    await prisma.user.update({ where: { id: user.id }, data: { name: 'two' } })
    seen.push(await version())
    expect(await read()).toBe('two')

    await admin.set(versionKey, 'not a number') // foreign bytes
    await prisma.user.update({ where: { id: user.id }, data: { name: 'three' } })
    seen.push(await version())
    expect(await read()).toBe('three')

    await prisma.user.findUnique({ where: { id: user.id } })
    await admin.flushall() // everything gone, entries included
    expect(await read()).toBe('three')
    seen.push(await version()) // reseeded by the read

    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number)
  })
})
