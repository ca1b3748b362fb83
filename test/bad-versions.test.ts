// Versions read from Redis or heard on the bus are checked: a value that is not one of ours (Infinity, NaN, past
// 2^53, far beyond Redis's clock) set by hand in a version key, or a forged bus message, never pins an instance
// to what it holds: every write still reaches every instance, and no entry filled under a bad value answers a
// read that saw a later write.
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { redisUrl } from './support/services.ts'

describe('bad versions', () => {
  let db: TestDatabase
  let raw: RawClient
  let admin: Redis
  let seq = 0
  const instances: CachedClient[] = []

  beforeAll(async () => {
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
    admin = new Redis(await redisUrl())
  })
  afterEach(async () => {
    for (const prisma of instances.splice(0)) {
      await prisma.$cache.close()
      await prisma.$disconnect()
    }
  })
  afterAll(async () => {
    admin?.disconnect()
    await raw?.$disconnect()
    await db?.drop()
  })

  const newPrefix = () => `bad${process.pid}x${Date.now().toString(36)}x${seq++}`

  async function instance(prefix: string, options: CacheOptions = {}): Promise<CachedClient> {
    const prisma = newClient('sqlite', db.adapter()).$extends(
      cache({ redis: await redisUrl(), prefix, onError: () => {}, ...options }),
    )
    instances.push(prisma)
    await waitForBus(prisma)
    return prisma
  }

  async function newUser() {
    return (await raw.user.create({ data: { email: `b${seq++}@x`, name: 'w0' } })).id
  }

  /** Reads through `prisma` until it returns what the database holds: a write's bus message takes a moment. */
  async function converges(prisma: CachedClient, id: number) {
    const truth = await raw.user.findUnique({ where: { id } })
    const deadline = Date.now() + 5000
    let seen = await prisma.user.findUnique({ where: { id } })
    while (seen?.name !== truth?.name && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5))
      seen = await prisma.user.findUnique({ where: { id } })
    }
    expect(seen).toEqual(truth)
  }

  /** The version of `name` in `prefix` an instance trusts, changed when it applied a bus message. */
  async function applied(prisma: CachedClient, before: string | undefined) {
    for (const start = Date.now(); Date.now() - start < 5000; await new Promise((r) => setTimeout(r, 5))) {
      if ((await prisma.$cache.versionTag({ models: ['User'] })) !== before) return
    }
    throw new Error('the bus message was never applied')
  }

  it('a version key holding a value that is not ours is reseeded, and every write reaches every instance', async () => {
    const farFuture = String((Date.now() + 30 * 86_400_000) * 1000)
    for (const bad of ['inf', 'nan', '-1', '1e300', '9007199254740993', farFuture, '17e14']) {
      const prefix = newPrefix()
      const id = await newUser()
      await admin.set(`{${prefix}}:v:m:User`, bad)
      const [reader, writer] = [await instance(prefix), await instance(prefix)]
      await converges(reader, id)
      for (let w = 1; w <= 4; w++) {
        await writer.user.update({ where: { id }, data: { name: `w${w}` } })
        await converges(reader, id)
      }
      const version = Number(await admin.get(`{${prefix}}:v:m:User`))
      expect(Number.isSafeInteger(version), `${bad} became ${version}`).toBe(true)
      expect(version).toBeLessThan((Date.now() + 86_400_000) * 1000)
    }
  })

  it('a forged bus message with an inflated version pins no instance: later writes reach it', async () => {
    const prefix = newPrefix()
    const id = await newUser()
    const [reader, writer] = [await instance(prefix), await instance(prefix)]
    await converges(reader, id)
    for (const forged of ['Infinity', 'NaN', '9007199254740993', '9007199254740991']) {
      const before = await reader.$cache.versionTag({ models: ['User'] })
      await admin.publish(`${prefix}:bus`, `forger m:User ${forged}`)
      if (forged === '9007199254740991') await applied(reader, before)
      else await new Promise((r) => setTimeout(r, 50))
      await converges(reader, id)
    }
    for (let w = 1; w <= 4; w++) {
      await writer.user.update({ where: { id }, data: { name: `w${w}` } })
      await converges(reader, id)
    }
  })

  it('an entry filled under a forged version never answers an instance that read a later write', async () => {
    const prefix = newPrefix()
    const id = await newUser()
    const forged = await instance(prefix)
    await forged.user.findUnique({ where: { id } })
    const before = await forged.$cache.versionTag({ models: ['User'] })
    await admin.publish(`${prefix}:bus`, 'forger m:User 9007199254740991')
    await applied(forged, before)
    await forged.user.findUnique({ where: { id } }) // filled under the forged version, in Redis too
    await forged.$cache.close()

    const writer = await instance(prefix)
    await writer.user.update({ where: { id }, data: { name: 'w1' } })
    const fresh = await instance(prefix)
    expect(await fresh.user.findUnique({ where: { id } })).toEqual(await raw.user.findUnique({ where: { id } }))
  })

  it('a row version that is not ours is reseeded: the row is cached again and reads what was written', async () => {
    const prefix = newPrefix()
    const id = await newUser()
    const options = { models: { User: { strategy: 'write-through' } } } as const
    const [reader, writer] = [await instance(prefix, options), await instance(prefix, options)]
    await reader.user.findUnique({ where: { id } })
    const [row] = (await admin.keys(`${prefix}:r:User:*`)) as [string]
    for (const bad of ['inf', '9007199254740993']) {
      await admin.hset(row, 'v', bad)
      await writer.user.update({ where: { id }, data: { name: `row ${bad}` } })
      await converges(reader, id)
      const hits = () => reader.$cache.stats().localHits + reader.$cache.stats().redisHits
      const before = hits()
      await converges(reader, id)
      await converges(reader, id)
      expect(hits()).toBeGreaterThan(before)
    }
  })
})
