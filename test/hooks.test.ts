// Hooks: onHit, onMiss and onInvalidate see what the cache does; a hook that throws never reaches the caller.

import type { HitEvent, InvalidateEvent, MissEvent } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { matrix, setupCase } from './support/matrix.ts'

describe.each(matrix.filter((c) => c.provider === 'sqlite'))('hooks: $provider / $tiers', (c) => {
  it('report hits by tier, misses with their duration, and invalidations by model', async () => {
    const hits: HitEvent[] = []
    const misses: MissEvent[] = []
    const invalidations: InvalidateEvent[] = []
    const s = await setupCase(c, {
      onHit: (e) => hits.push(e),
      onMiss: (e) => misses.push(e),
      onInvalidate: (e) => invalidations.push(e),
    })
    try {
      await s.prisma.user.findMany()
      await s.prisma.user.findMany()
      await s.prisma.user.create({ data: { email: 'h@x' } })
      await s.prisma.$cache.invalidate({ models: ['Post'], tags: ['a', 'b'] })
      expect(misses).toEqual([{ model: 'User', operation: 'findMany', durationMs: expect.any(Number) }])
      expect(hits).toEqual([{ model: 'User', operation: 'findMany', tier: 'local', stale: false }])
      expect(invalidations).toEqual([
        { models: ['User'], tags: 0 },
        { models: ['Post'], tags: 2 },
      ])
    } finally {
      await s.close()
    }
  })

  it('a hook that throws is reported, not thrown', async () => {
    const errors: string[] = []
    const s = await setupCase(c, {
      onHit: () => {
        throw new Error('bad hook')
      },
      onError: (e) => errors.push(e.code),
    })
    try {
      await s.prisma.user.findMany()
      await expect(s.prisma.user.findMany()).resolves.toEqual([])
      expect(errors).toEqual(['E_HOOK'])
    } finally {
      await s.close()
    }
  })
})
