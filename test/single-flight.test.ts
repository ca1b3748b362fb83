// Single flight holds whatever Redis does: identical reads in one process share one database query when Redis
// answers, and when it does not (frozen here: every call runs out of its budget), without ever giving a read a
// query sent before this process's own latest write. Counted below Prisma and by the Redis server, default options.
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CountingAdapter, countingAdapter } from './support/counting-adapter.ts'
import { holdNextSelect } from './support/hold-statement.ts'
import { newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

const selectsOf = (counting: CountingAdapter<unknown>, table: string) =>
  counting.statements().filter((sql) => /^\s*select/i.test(sql) && sql.includes(table)).length

describe('single flight, whatever Redis does', () => {
  let db: TestDatabase
  let raw: RawClient
  let server: LocalServer
  let admin: Redis
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  const cleanups: Array<() => Promise<void>> = []
  let seq = 0

  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
  })
  afterEach(async () => {
    process.kill(server.pid, 'SIGCONT')
    hold = undefined
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
    await raw?.$disconnect()
    await db?.drop()
  })

  async function client(options: CacheOptions = {}) {
    const counting = countingAdapter(db.adapter() as never, { afterQuery: (sql) => hold?.(sql) })
    const errors: string[] = []
    const prisma = newClient('sqlite', counting.adapter).$extends(
      cache({ redis: server.url, prefix: `sf${seq++}`, onError: (e) => errors.push(e.code), ...options }),
    )
    cleanups.push(async () => {
      await prisma.$cache.close()
      await prisma.$disconnect()
    })
    await waitForBus(prisma)
    return { prisma, counting: counting as CountingAdapter<unknown>, errors }
  }

  it('Redis frozen: concurrent reads share one query, and a read after our write never shares an older one', async () => {
    const post = await raw.post.create({ data: { title: 'frozen', views: 1 } })
    const { prisma, counting, errors } = await client()
    const read = () => prisma.post.findFirst({ where: { title: 'frozen' } })
    process.kill(server.pid, 'SIGSTOP')

    // Three reads share one query, which has read views = 1 and is held there.
    const held = holdNextSelect('Post')
    hold = held.hook
    counting.reset()
    const before = [read(), read(), read()].map((r) => r.then((row) => row?.views))
    await held.held

    // Our write returns (its bump is owed: Redis is frozen); reads started now must see it.
    await prisma.post.update({ where: { id: post.id }, data: { views: 2 } })
    const after = await Promise.all([read(), read(), read()].map((r) => r.then((row) => row?.views)))
    expect(after).toEqual([2, 2, 2])
    held.release()
    expect(await Promise.all(before)).toEqual([1, 1, 1])

    // One query for the reads before the write, one for those after it; none cached (no snapshot to cache under).
    expect(selectsOf(counting, 'Post')).toBe(2)
    expect(prisma.$cache.stats()).toMatchObject({ misses: 2, coalesced: 4, bypasses: 0, fills: 0 })
    expect(errors).toContain('E_REDIS_UNAVAILABLE')
  })

  it('Redis-only: reads sharing one Redis hit each get a result of their own, whichever of them looked it up', async () => {
    const author = await raw.user.create({
      data: { email: 'shared@example.com', name: 'Ada', posts: { create: [{ title: 'one' }, { title: 'two' }] } },
    })
    const { prisma, counting } = await client({ local: false })
    const args = { where: { id: author.id }, include: { posts: { orderBy: { id: 'asc' as const } } } }
    const oracle = await raw.user.findUniqueOrThrow(args)
    await prisma.user.findUniqueOrThrow(args) // the fill, sent with the next GET
    counting.reset()
    prisma.$cache.resetStats()
    const results = await Promise.all([1, 2, 3].map(() => prisma.user.findUniqueOrThrow(args)))
    // One lookup, shared: the reader that made it got the entry as decoded, the others a copy each.
    expect(prisma.$cache.stats()).toMatchObject({ redisHits: 1, coalesced: 2, misses: 0 })
    expect(counting.count()).toBe(0)
    for (const [i, mine] of results.entries()) {
      mine.name = `mutated ${i}`
      ;(mine.createdAt as Date).setTime(0)
      mine.posts[0] = { ...(mine.posts[0] as (typeof mine.posts)[number]), title: `mutated ${i}` }
      ;(mine.posts[1] as { title: string }).title = `mutated ${i}`
      for (const other of results.slice(i + 1)) expect(other).toEqual(oracle)
    }
    // And a later reader, served by the same entry, gets it as it was stored.
    expect(await prisma.user.findUniqueOrThrow(args)).toEqual(oracle)
  })

  it('write-through point reads: one snapshot call and one row read for a burst; Redis frozen, one query', async () => {
    const user = await raw.user.create({ data: { email: 'sf@x', name: 'one' } })
    const { prisma } = await client({ models: { User: { strategy: 'write-through' } } })
    const burst = () =>
      Promise.all(Array.from({ length: 50 }, () => prisma.user.findUnique({ where: { id: user.id } })))
    await admin.config('RESETSTAT')
    expect((await burst()).map((u) => u?.name)).toEqual(Array(50).fill('one'))
    // Commandstats: the readVersions script, the readRow script (each with the GET it runs), the fill's put.
    const info = await admin.info('commandstats')
    const evalsha = Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0)
    expect(evalsha).toBeLessThanOrEqual(3)
    expect(prisma.$cache.stats()).toMatchObject({ misses: 1, coalesced: 49 })

    const { prisma: cold } = await client({ models: { User: { strategy: 'write-through' } } })
    process.kill(server.pid, 'SIGSTOP')
    const rows = await Promise.all(Array.from({ length: 50 }, () => cold.user.findUnique({ where: { id: user.id } })))
    expect(rows.map((u) => u?.name)).toEqual(Array(50).fill('one'))
    expect(cold.$cache.stats()).toMatchObject({ misses: 1, coalesced: 49, bypasses: 0 })
  })
})
