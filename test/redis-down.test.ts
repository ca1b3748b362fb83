// design invariant 7, docs/design.md: the cache is never a hard dependency. Redis dies under load: every call still returns the
// database's answer, none waits much longer than the Redis timeout, and once Redis is back the cache is used again.

import { cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { newClient } from './support/matrix.ts'
import { ownRedisAndSqlite } from './support/own-redis.ts'
import { RunningTime } from './support/running-time.ts'
import { startRedisServer } from './support/services.ts'

const redisTimeout = 100

describe('Redis goes away and comes back', () => {
  const scene = ownRedisAndSqlite()
  const errors: string[] = []

  it('answers correctly throughout, bounded by the timeout, and uses the cache again after', async () => {
    const { server, db, raw } = scene
    const prisma = newClient('sqlite', db.adapter()).$extends(
      cache({ redis: server.url, prefix: 'down', redisTimeout, onError: (e) => errors.push(e.code) }),
    )
    const user = await raw.user.create({ data: { email: 'down@x', name: 'n0' } })
    const read = () => prisma.user.findUniqueOrThrow({ where: { id: user.id } })
    const oracle = () => raw.user.findUniqueOrThrow({ where: { id: user.id } })
    await read()

    const port = server.port
    await server.stop()
    // The bound is on time this process could run (test/support/running-time.ts): load elsewhere is not Strata's wait.
    const clock = new RunningTime()
    let slowest = 0
    try {
      for (let i = 1; i <= 20; i++) {
        let got: unknown
        const ms = await clock.measure(async () => {
          if (i % 3 === 0) await prisma.user.update({ where: { id: user.id }, data: { name: `n${i}` } })
          got = await read()
        })
        expect(got).toEqual(await oracle())
        slowest = Math.max(slowest, ms)
      }
    } finally {
      clock.stop()
    }
    expect(errors.filter((c) => c === 'E_REDIS_UNAVAILABLE').length).toBeGreaterThan(0)
    // A write and a read, each adding at most the timeout while the breaker is closed, plus SQLite's time.
    expect(slowest).toBeLessThan(4 * redisTimeout + 250)

    scene.server = await startRedisServer({ args: ['--port', String(port)] })
    const before = prisma.$cache.stats()
    const deadline = Date.now() + 15_000
    let hits = 0
    while (Date.now() < deadline && hits < 3) {
      expect(await read()).toEqual(await oracle())
      const now = prisma.$cache.stats()
      hits = now.localHits + now.redisHits - before.localHits - before.redisHits
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(hits).toBeGreaterThanOrEqual(3)
    await prisma.$cache.close()
    await prisma.$disconnect()
  })
})
