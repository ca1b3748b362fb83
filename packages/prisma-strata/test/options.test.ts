import { describe, expect, it } from 'vitest'
import { cache, StrataOptionsError } from '../src/index'
import { resolveOptions } from '../src/options'

describe('cache(options)', () => {
  it('applies documented defaults', () => {
    const o = resolveOptions()
    expect(o).toMatchObject({ prefix: 'strata', ttl: 60, negativeTtl: 5, jitter: 0.1, redisTimeout: 200 })
    expect(o.staleness).toBe(1000)
    expect(o.local).toEqual({ maxBytes: 64 * 1024 * 1024, ttl: undefined })
  })

  it.each([
    [{ ttl: 0 }, /`ttl` must be a positive number/],
    [{ ttl: '60' }, /`ttl` must be a positive number, got "60"/],
    [{ tll: 60 }, /`tll` is not an option. Allowed: redis, prefix, ttl/],
    [{ prefix: 'a{b}' }, /`prefix` must be .*hash tags/],
    [{ jitter: 1 }, /`jitter` must be a number in \[0, 1\)/],
    [{ local: { maxBytes: -1 } }, /`local.maxBytes` must be a positive number/],
    [{ local: { size: 1 } }, /`local.size` is not an option/],
    [{ models: { User: { ttl: -5 } } }, /`models.User.ttl` must be a positive number/],
    [{ models: { User: true } }, /`models.User` must be `false` or an object/],
    [{ models: { PostStats: { dependsOn: 'Post' } } }, /`models.PostStats.dependsOn` must be a list of model names/],
    [{ models: { PostStats: { dependsOn: [''] } } }, /`models.PostStats.dependsOn` must be a list of model names/],
    [{ redis: 42 }, /`redis` must be an ioredis Redis or Cluster, ioredis options, or a redis:\/\/ URL/],
    [{ redis: 'http://x' }, /`redis` must be/],
    [{ onError: 'log' }, /`onError` must be a function/],
    [{ staleness: 10 }, /`staleness` must be a number of milliseconds, 40 or more, got 10/],
    [{ staleness: Number.POSITIVE_INFINITY }, /`staleness` must be a number of milliseconds/],
  ])('rejects %j at cache(...) with a message saying what to fix', (options, message) => {
    expect(() => cache(options as never)).toThrow(StrataOptionsError)
    expect(() => cache(options as never)).toThrow(message)
  })
})
