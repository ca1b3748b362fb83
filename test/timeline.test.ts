// Versions belong to one Redis timeline: a Redis restarted from an older dump, or a replica promoted with less
// than its master had, holds old version values and the entries filled under them. None of those may answer
// again: the writer, the instances that were reading, and a new instance all read what the database holds.
// Each test runs its own redis-server(s).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { redisProxy } from './support/redis-proxy.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

describe('a rewound Redis', () => {
  let db: TestDatabase
  let raw: RawClient
  const cleanups: Array<() => Promise<unknown> | unknown> = []
  // What `$cache.wrap` computes: a value outside the database, invalidated by its tag alone.
  let greeting = 'before'

  beforeAll(async () => {
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    await raw?.$disconnect()
    await db?.drop()
  })

  async function server(args: string[] = []): Promise<LocalServer> {
    const s = await startRedisServer({ args })
    cleanups.push(() => s.stop())
    return s
  }

  async function instance(options: CacheOptions): Promise<CachedClient> {
    const prisma = newClient('sqlite', db.adapter()).$extends(
      cache({ models: { Post: { strategy: 'write-through' } }, onError: () => {}, ...options }),
    )
    cleanups.push(async () => {
      await prisma.$cache.close()
      await prisma.$disconnect()
    })
    await waitForBus(prisma)
    return prisma
  }

  async function rows() {
    const user = await raw.user.create({ data: { email: `u${Date.now()}@x`, name: 'before' } })
    const post = await raw.post.create({ data: { title: 'before', authorId: user.id } })
    greeting = 'before'
    return { userId: user.id, postId: post.id }
  }

  /** A model read with a relation, a write-through point read, a tagged read and a wrapped value. */
  async function reads(prisma: CachedClient, { userId, postId }: { userId: number; postId: number }) {
    return {
      user: await prisma.user.findUnique({ where: { id: userId }, include: { posts: true } }),
      post: await prisma.post.findUnique({ where: { id: postId } }),
      tagged: await prisma.user.findMany({ where: { id: userId }, cache: { tags: ['people'] } }),
      greeting: await prisma.$cache.wrap('greeting', () => greeting, { tags: ['greetings'] }),
    }
  }

  async function truth({ userId, postId }: { userId: number; postId: number }) {
    return {
      user: await raw.user.findUnique({ where: { id: userId }, include: { posts: true } }),
      post: await raw.post.findUnique({ where: { id: postId } }),
      tagged: await raw.user.findMany({ where: { id: userId } }),
      greeting,
    }
  }

  async function write(prisma: CachedClient, { userId, postId }: { userId: number; postId: number }) {
    await prisma.user.update({ where: { id: userId }, data: { name: 'after' } })
    await prisma.post.update({ where: { id: postId }, data: { title: 'after' } })
    greeting = 'after'
    await prisma.$cache.invalidate({ tags: ['greetings'] })
  }

  async function gone(prisma: CachedClient) {
    // The bus connection died with the server: until it is subscribed again the instance trusts nothing it holds.
    for (const start = Date.now(); prisma.$cache.ready && Date.now() - start < 5000; ) {
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  it('restarted from a dump taken before a write: the writer, a reader and a new instance read the write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-dump-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const disk = ['--dir', dir, '--dbfilename', 'dump.rdb']
    const first = await server(disk)
    const options = { redis: first.url, prefix: 'rewind' }
    const [writer, reader] = [await instance(options), await instance(options)]
    const ids = await rows()
    await reads(writer, ids)
    await reads(reader, ids) // every entry is in Redis, under the versions of before the write
    const admin = new Redis(first.url)
    await admin.save()
    admin.disconnect()

    await write(writer, ids)
    expect(await reads(writer, ids)).toEqual(await truth(ids))
    process.kill(first.pid, 'SIGKILL') // the write, its bumps and what was filled after it are lost
    await first.stop()
    await Promise.all([gone(writer), gone(reader)])
    await server(['--port', String(first.port), ...disk])
    await Promise.all([waitForBus(writer), waitForBus(reader)])

    const fresh = await instance(options)
    for (const prisma of [writer, reader, fresh]) expect(await reads(prisma, ids)).toEqual(await truth(ids))
  })

  it('a replica promoted with less than its master had: every instance reads the write', async () => {
    const master = await server()
    const replica = await server(['--replicaof', '127.0.0.1', String(master.port)])
    // Instances reach Redis through one address, as behind a Sentinel-managed name; failing over moves it.
    const proxy = await redisProxy(master.port)
    cleanups.push(() => proxy.close())
    const options = { redis: { host: '127.0.0.1', port: proxy.port }, prefix: 'failover' }
    const [writer, reader] = [await instance(options), await instance(options)]
    const ids = await rows()
    await reads(writer, ids)
    await reads(reader, ids)
    const [primary, secondary] = [new Redis(master.url), new Redis(replica.url)]
    primary.on('error', () => {}) // it is killed below
    cleanups.push(() => primary.disconnect())
    cleanups.push(() => secondary.disconnect())
    for (const start = Date.now(); Number(await primary.call('WAIT', '1', '1000')) < 1; ) {
      if (Date.now() - start > 10_000) throw new Error('the replica never caught up')
    }
    // Replication stops here: the replica will be promoted without what comes next.
    await secondary.call('REPLICAOF', 'NO', 'ONE')

    await write(writer, ids)
    expect(await reads(writer, ids)).toEqual(await truth(ids))
    process.kill(master.pid, 'SIGKILL')
    proxy.moveTo(replica.port)
    await Promise.all([gone(writer), gone(reader)])
    await Promise.all([waitForBus(writer), waitForBus(reader)])

    const fresh = await instance(options)
    for (const prisma of [writer, reader, fresh]) expect(await reads(prisma, ids)).toEqual(await truth(ids))
  })

  it('a failback to an old master that missed the writes made on the other (its run id unchanged): every instance reads the write', async () => {
    const old = await server()
    const other = await server(['--replicaof', '127.0.0.1', String(old.port)])
    const proxy = await redisProxy(old.port)
    cleanups.push(() => proxy.close())
    const options = { redis: { host: '127.0.0.1', port: proxy.port }, prefix: 'failback' }
    const [writer, reader] = [await instance(options), await instance(options)]
    const ids = await rows()
    await reads(writer, ids)
    await reads(reader, ids)
    const [first, second] = [new Redis(old.url), new Redis(other.url)]
    second.on('error', () => {}) // it is killed below
    cleanups.push(() => first.disconnect())
    cleanups.push(() => second.disconnect())
    for (const start = Date.now(); Number(await first.call('WAIT', '1', '1000')) < 1; ) {
      if (Date.now() - start > 10_000) throw new Error('the replica never caught up')
    }
    const moveTo = async (to: number) => {
      proxy.moveTo(to)
      await Promise.all([gone(writer), gone(reader)])
      await Promise.all([waitForBus(writer), waitForBus(reader)])
    }
    // Failover: the replica is promoted, the old master is cut off but keeps running (and its data, and its run id).
    await second.call('REPLICAOF', 'NO', 'ONE')
    await moveTo(other.port)
    await write(writer, ids)
    expect(await reads(writer, ids)).toEqual(await truth(ids))
    expect(await reads(reader, ids)).toEqual(await truth(ids))
    // Failback to the old master, which never resynced: the write's bumps are lost with the server that took them.
    process.kill(other.pid, 'SIGKILL')
    await moveTo(old.port)

    const fresh = await instance(options)
    for (const prisma of [writer, reader, fresh]) expect(await reads(prisma, ids)).toEqual(await truth(ids))
  })

  it('a row hash left by another server run (a Cluster node restarted from its dump) is not served', async () => {
    const redis = await server()
    const options = { redis: redis.url, prefix: 'rowrun' }
    const [writer, reader] = [await instance(options), await instance(options)]
    const ids = await rows()
    await reads(reader, ids)
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    const [key] = (await admin.keys('rowrun:r:Post:*')) as [string]
    const before = await admin.dumpBuffer(key)

    await write(writer, ids)
    // The node holding this row (version keys live elsewhere in a Cluster) comes back with its hash of before the
    // write, stamped by the run that wrote it, which is not the run now serving.
    await admin.restore(key, 0, before, 'REPLACE')
    await admin.hset(key, 's', 'f'.repeat(40))

    const fresh = await instance(options)
    expect(await fresh.post.findUnique({ where: { id: ids.postId } })).toEqual(
      await raw.post.findUnique({ where: { id: ids.postId } }),
    )
  })
})
