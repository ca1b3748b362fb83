import { describe, expect, it } from 'vitest'
import { Stats } from '../src/observe/stats'

const local = { entries: 0, bytes: 0 }

describe('Stats', () => {
  it('keeps counters per model and operation, and sums them per model and in total', () => {
    const stats = new Stats()
    const find = stats.of('User', 'findUnique')
    find.localHits += 3
    find.misses++
    expect(stats.of('User', 'findUnique')).toBe(find) // one object per pair, bumped in place
    stats.of('User', 'count').redisHits++
    stats.of('Post', 'findMany').bypasses++
    const snapshot = stats.snapshot(local)
    expect(snapshot.models.User?.operations.findUnique).toMatchObject({ localHits: 3, misses: 1, hitRatio: 0.75 })
    expect(snapshot.models.User).toMatchObject({ localHits: 3, redisHits: 1, misses: 1, hitRatio: 0.8 })
    expect(Object.keys(snapshot.models.User?.operations ?? {})).toEqual(['findUnique', 'count'])
    expect(snapshot).toMatchObject({ localHits: 3, redisHits: 1, misses: 1, bypasses: 1, hitRatio: 0.8 })
    // A snapshot is a copy: later reads do not change it.
    find.localHits++
    expect(snapshot.models.User?.operations.findUnique?.localHits).toBe(3)
  })
})
