// Observability: the Prometheus collector (prisma-strata/prometheus) and version tags for HTTP ETags.

import { strataMetrics } from 'prisma-strata/prometheus'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { matrix, setupCase } from './support/matrix.ts'

describe.each(matrix.filter((c) => c.provider === 'sqlite'))('metrics: $provider / $tiers', (c) => {
  it('exposes reads by model and outcome, hit ratio, errors and latency per tier', async () => {
    const registry = new Registry()
    const metrics = strataMetrics({ registry })
    const s = await setupCase(c, { ...metrics.hooks })
    metrics.observe(s.prisma)
    try {
      await s.prisma.user.findMany()
      await s.prisma.user.findMany()
      await s.prisma.user.findMany()
      const text = await registry.metrics()
      expect(text).toContain('strata_reads_total{model="User",outcome="local_hit"} 2')
      expect(text).toContain('strata_reads_total{model="User",outcome="miss"} 1')
      expect(text).toMatch(/strata_hit_ratio\{model="User"\} 0\.66/)
      expect(text).toContain('strata_read_duration_seconds_count{model="User",tier="database"} 1')
      expect(text).toContain('strata_fills_total 1')
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
