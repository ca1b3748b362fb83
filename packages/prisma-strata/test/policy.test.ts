import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options'
import { Policies } from '../src/policy/policy'

describe('policies', () => {
  const models = ['User', 'Post', 'AuditLog']

  it('layers schema, then code, then the query', () => {
    const p = new Policies(
      resolveOptions({ ttl: 60, jitter: 0, models: { Post: { ttl: 5 }, AuditLog: { ttl: 9 } } }),
      { User: { ttl: 300, swr: 10 }, AuditLog: false },
      models,
    )
    const user = p.of('User')
    const post = p.of('Post')
    expect(user).toMatchObject({ ttlMs: 300_000, swrMs: 10_000 })
    expect(post).toMatchObject({ ttlMs: 5000, swrMs: 0 })
    expect(p.of('AuditLog')).toMatchObject({ ttlMs: 9000 }) // code turns the schema's `false` back on
    if (!user || !post) throw new Error('cached models')
    const now = Date.now()
    const times = p.times(user, { ttl: 2 }, {})
    expect(times.freshUntil - now).toBeGreaterThanOrEqual(1990)
    expect(times.freshUntil - now).toBeLessThanOrEqual(2010)
    expect(times.staleUntil - times.freshUntil).toBe(10_000)
  })

  it('knows the longest an entry lives by configuration, so version keys can outlive it', () => {
    const p = new Policies(
      resolveOptions({ ttl: 60, grace: 30, models: { Post: { ttl: 5, swr: 400 } } }),
      { User: { ttl: 300, negativeTtl: 900 }, AuditLog: false },
      models,
    )
    expect(p.longestLifetimeMs()).toBe((900 + 30) * 1000) // User's negative TTL, then the top-level grace
  })

  it('spreads TTLs by up to `jitter` below the TTL, never above', () => {
    const p = new Policies(resolveOptions({ ttl: 100, jitter: 0.2 }), {}, models)
    const policy = p.of('User')
    if (!policy) throw new Error('cached')
    const ttls = Array.from({ length: 500 }, () => p.times(policy, undefined, {}).freshUntil - Date.now())
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(80_000 - 5)
    expect(Math.max(...ttls)).toBeLessThanOrEqual(100_000 + 5)
    expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(10_000) // actually spread
  })

  it('gives "no such row" results the negative TTL, and keeps entries for grace after swr', () => {
    const p = new Policies(resolveOptions({ ttl: 100, negativeTtl: 3, jitter: 0, swr: 5, grace: 30 }), {}, models)
    const policy = p.of('Post')
    if (!policy) throw new Error('cached')
    const now = Date.now()
    const negative = p.times(policy, undefined, null)
    expect(Math.round((negative.freshUntil - now) / 1000)).toBe(3)
    expect(Math.round((negative.expiresAt - negative.freshUntil) / 1000)).toBe(30)
  })

  it('does not cache a view unless dependsOn names what it reads (or is [] for TTL alone)', () => {
    const all = ['User', 'Post', 'Stats', 'Daily']
    const p = new Policies(
      resolveOptions({ models: { Daily: { dependsOn: [] } } }),
      { Stats: { dependsOn: ['Post'] } },
      all,
      ['Stats', 'Daily', 'Plain'],
    )
    expect(p.of('Stats')).toMatchObject({ ttlMs: 60_000 })
    expect(p.of('Daily')).toMatchObject({ ttlMs: 60_000 })
    const plain = new Policies(resolveOptions(), {}, [...all, 'Plain'], ['Plain'])
    expect(plain.of('Plain')).toBe(false)
    // Reached through a relation, a view that names nothing depends on every model.
    expect(plain.withSources(['User', 'Plain']).sort()).toEqual([...all, 'Plain'].sort())
    expect(p.withSources(['Stats'])).toEqual(['Stats', 'Post'])
    expect(p.withSources(['User', 'Daily'])).toEqual(['User', 'Daily'])
    expect(p.withSources(['User'])).toEqual(['User'])
  })

  it('rejects dependsOn naming no model, and a write-through view', () => {
    expect(
      () => new Policies(resolveOptions({ models: { Stats: { dependsOn: ['Nope'] } } }), {}, ['Stats'], ['Stats']),
    ).toThrow(/`models.Stats`: dependsOn names `Nope`, not a model of this client/)
    expect(() => new Policies(resolveOptions(), { Stats: { dependsOn: ['Nope'] } }, ['Stats'], ['Stats'])).toThrow(
      /the @cache annotation of Stats: dependsOn names `Nope`/,
    )
    expect(
      () =>
        new Policies(
          resolveOptions({ models: { Stats: { dependsOn: [], strategy: 'write-through' } } }),
          {},
          ['Stats'],
          ['Stats'],
        ),
    ).toThrow(/Stats is a view; strategy "write-through"/)
  })
})
