// A frozen Redis (every byte dropped, no socket closed) opens the breaker whatever the options: a read's first
// command has the whole `redisTimeout`, so a dead node cannot hide behind the calls that are not counted when they
// run out (those given under half the timeout: a lease wait's last probes, a read's later commands). Commands are
// counted at a proxy in front of a Redis server of this test's own; faults.test.ts covers default options.
import { type CacheOptions, cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { faultProxy } from './support/fault-proxy.ts'
import { newClient } from './support/matrix.ts'
import { ownRedisAndSqlite } from './support/own-redis.ts'

const READS = 30
const writeThrough = { models: { Post: { strategy: 'write-through' as const } } }
const variants: Array<[string, CacheOptions]> = [
  ['leases with a short wait', { lease: { wait: 60 } }],
  ['write-through, leases with a short wait', { ...writeThrough, lease: { wait: 60 } }],
  ['model invalidation, no local tier', { invalidation: 'model', local: false }],
]

describe('a frozen Redis opens the breaker', () => {
  const scene = ownRedisAndSqlite()
  let n = 0

  it.each(variants)('%s: reads stop sending commands, and every answer is the database’s', async (name, options) => {
    const { server, db, raw } = scene
    const proxy = await faultProxy(server.port)
    const prisma = newClient('sqlite', db.adapter()).$extends(
      cache({ redis: proxy.url, prefix: `frozen${n++}`, redisTimeout: 200, onError: () => {}, ...options }),
    )
    try {
      expect(await prisma.$cache.whenReady(5000)).toBe(true)
      const ids: number[] = []
      for (let i = 0; i <= READS; i++) {
        ids.push((await raw.post.create({ data: { title: `${name} ${i}`, views: i } })).id)
      }
      await prisma.post.findUnique({ where: { id: ids[0] as number } }) // the model's versions known here
      proxy.sends = /EVALSHA|\*2\r\n\$3\r\nGET|\$3\r\nSET/i
      proxy.frozen = true
      let sending = 0
      for (let i = 1; i <= READS; i++) {
        const before = proxy.sent
        expect((await prisma.post.findUnique({ where: { id: ids[i] as number } }))?.views).toBe(i)
        if (proxy.sent > before) sending++
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      // The breaker opens after 3 failing periods; its trial calls now and then are a few more.
      expect(sending).toBeLessThan(READS / 3)
    } finally {
      proxy.frozen = false
      proxy.cut()
      await prisma.$cache.close()
      await prisma.$disconnect()
      await proxy.close()
    }
  })
})
