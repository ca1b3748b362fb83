// Observability: counters per model and operation, the Prometheus collector (prisma-strata/prometheus) and version
// tags for HTTP ETags.

import { strataMetrics } from 'prisma-strata/prometheus'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { matrix, setupCase } from './support/matrix.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const none = { localHits: 0, redisHits: 0, misses: 0, coalesced: 0, stale: 0, bypasses: 0 }

describe.each(matrix.filter((c) => c.provider === 'sqlite'))('metrics: $provider / $tiers', (c) => {
  it('stats() counts each operation of each model apart, and sums them per model and in total', async () => {
    const s = await setupCase(c, { jitter: 0 })
    try {
      await s.prisma.user.findMany() // miss
      await s.prisma.user.findMany() // local hit
      await s.prisma.user.findMany({ cache: false }) // bypass
      await s.prisma.user.findUnique({ where: { id: 1 } }) // miss (no such row)
      await s.prisma.user.findUniqueOrThrow({ where: { id: 1 } }).catch(() => undefined) // same entry: a hit
      await Promise.all([s.prisma.post.count(), s.prisma.post.count()]) // one miss, one shares it
      const swr = { where: { title: 'x' }, cache: { ttl: 0.05, swr: 30 } }
      await s.prisma.post.findFirst(swr) // miss
      await sleep(80)
      await s.prisma.post.findFirst(swr) // stale local hit, refreshed in the background

      const stats = s.prisma.$cache.stats()
      expect(stats.models.User?.operations).toEqual({
        findMany: { ...none, localHits: 1, misses: 1, bypasses: 1, hitRatio: 0.5 },
        findUnique: { ...none, misses: 1, hitRatio: 0 },
        findUniqueOrThrow: { ...none, localHits: 1, hitRatio: 1 },
      })
      expect(stats.models.User).toMatchObject({ localHits: 2, misses: 2, bypasses: 1, hitRatio: 0.5 })
      expect(stats.models.Post?.operations.count).toEqual({ ...none, misses: 1, coalesced: 1, hitRatio: 0.5 })
      expect(stats.models.Post?.operations.findFirst).toMatchObject({ localHits: 1, misses: 1, stale: 1 })
      expect(stats).toMatchObject({ localHits: 3, misses: 4, coalesced: 1, stale: 1, bypasses: 1 })

      if (c.tiers === 'two-tier') {
        // Another instance finds the entries in Redis: counted as Redis hits of the same model and operation.
        const b = await s.instance()
        await b.user.findMany()
        await b.post.count()
        const other = b.$cache.stats().models
        expect(other.User?.operations.findMany).toEqual({ ...none, redisHits: 1, hitRatio: 1 })
        expect(other.Post?.operations.count).toEqual({ ...none, redisHits: 1, hitRatio: 1 })
      }
      s.prisma.$cache.resetStats()
      expect(s.prisma.$cache.stats().models).toEqual({})
    } finally {
      await s.close()
    }
  })

  it('a read is counted when it runs: one never awaited counts nothing, one in a batch is a bypass', async () => {
    const s = await setupCase(c)
    try {
      void s.prisma.user.findMany({ cache: false }) // made, never awaited: nothing is read
      void s.prisma.user.findMany()
      expect(s.prisma.$cache.stats()).toMatchObject({ misses: 0, bypasses: 0 })
      await s.prisma.$transaction([s.prisma.user.findMany(), s.prisma.user.count({ cache: false })])
      expect(s.prisma.$cache.stats()).toMatchObject({ localHits: 0, misses: 0, bypasses: 2 })
      await s.prisma.$transaction(async (tx) => tx.user.findMany())
      expect(s.prisma.$cache.stats().models.User?.operations.findMany).toEqual({ ...none, bypasses: 2, hitRatio: 0 })
    } finally {
      await s.close()
    }
  })

  it('exposes reads by model and outcome, hit ratio, errors and latency per tier', async () => {
    const registry = new Registry()
    const metrics = strataMetrics({ registry })
    const s = await setupCase(c, { ...metrics.hooks })
    metrics.observe(s.prisma)
    try {
      await s.prisma.user.findMany()
      await s.prisma.user.findMany()
      await s.prisma.user.findMany()
      await s.prisma.user.count()
      const text = await registry.metrics()
      expect(text).toContain('strata_reads_total{model="User",operation="findMany",outcome="local_hit"} 2')
      expect(text).toContain('strata_reads_total{model="User",operation="findMany",outcome="miss"} 1')
      expect(text).toContain('strata_reads_total{model="User",operation="count",outcome="miss"} 1')
      expect(text).toContain('strata_stale_reads_total{model="User",operation="findMany"} 0')
      expect(text).toMatch(/strata_hit_ratio\{model="User"\} 0\.5/)
      expect(text).toContain('strata_read_duration_seconds_count{model="User",operation="findMany",tier="database"} 1')
      expect(text).toContain('strata_fills_total 2')
    } finally {
      await s.close()
    }
  })

  it('versionTag changes when a model it names is written, and only then', async () => {
    const s = await setupCase(c)
    try {
      const tag = () => s.prisma.$cache.versionTag({ models: ['User'] })
      const before = await tag()
      expect(before).toMatch(/^[\w-]{24}$/)
      expect(await tag()).toBe(before)
      await s.prisma.post.create({ data: { title: 'unrelated' } })
      expect(await tag()).toBe(before)
      await s.prisma.user.create({ data: { email: 'tag@x' } })
      expect(await tag()).not.toBe(before)
      await expect(s.prisma.$cache.versionTag({ models: ['Nope'] })).rejects.toThrow(/unknown model `Nope`/)
    } finally {
      await s.close()
    }
  })
})
