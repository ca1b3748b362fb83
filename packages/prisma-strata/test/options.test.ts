import { describe, expect, it } from 'vitest'
import { cache, StrataOptionsError } from '../src/index'
import { resolveOptions } from '../src/options'

describe('cache(options)', () => {
  it('applies documented defaults', () => {
    const o = resolveOptions()
    expect(o).toMatchObject({ prefix: 'strata', ttl: 60, negativeTtl: 5, jitter: 0.1, redisTimeout: 200 })
    expect(o.staleness).toBe(1000)
    expect(o.local).toEqual({ maxBytes: 64 * 1024 * 1024, ttl: undefined })
    expect(o.changes).toBeUndefined()
  })

  it('changes: the slot and publication default to strata, the lease to 10 s', () => {
    const o = resolveOptions({ redis: 'redis://x', changes: { postgres: { connectionString: 'postgresql://h/db' } } })
    expect(o.changes).toEqual({
      connectionString: 'postgresql://h/db',
      slot: 'strata',
      publication: 'strata',
      leaseTimeoutMs: 10_000,
    })
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
    [
      { redis: 'redis://x', changes: true },
      /`changes` must be an object like `\{ postgres: \{ connectionString \} \}`/,
    ],
    [{ redis: 'redis://x', changes: {} }, /`changes.postgres` must be an object/],
    [
      { redis: 'redis://x', changes: { mysql: {} } },
      /`changes.mysql` is not an option. Allowed: postgres, leaseTimeout/,
    ],
    [
      { redis: 'redis://x', changes: { postgres: { connectionString: 'mysql://x' } } },
      /`changes.postgres.connectionString` must be a postgres:\/\/ or postgresql:\/\/ URL/,
    ],
    [
      { redis: 'redis://x', changes: { postgres: { connectionString: 'postgres://x', slot: 'My-Slot' } } },
      /`changes.postgres.slot` must be 1-63 characters of a-z 0-9 _/,
    ],
    [
      { redis: 'redis://x', changes: { postgres: { connectionString: 'postgres://x', publication: '' } } },
      /`changes.postgres.publication` must be 1-63 characters/,
    ],
    [
      { redis: 'redis://x', changes: { postgres: { connectionString: 'postgres://x' }, leaseTimeout: 0 } },
      /`changes.leaseTimeout` must be a positive number/,
    ],
    [{ changes: { postgres: { connectionString: 'postgres://x' } } }, /`changes` needs `redis`/],
    // Arrays are objects to `typeof`: each was taken as empty options.
    [[], /`options` must be an object/],
    [{ models: [] }, /`models` must be an object/],
    [{ models: { User: [] } }, /`models.User` must be `false` or an object/],
    [{ local: [] }, /`local` must be `false` or an object/],
    [{ lease: [] }, /`lease` must be a boolean or an object/],
    [{ redis: 'redis://x', changes: { postgres: [] } }, /`changes.postgres` must be an object/],
    // ioredis prefixes KEYS, not the keys Strata's scripts build from ARGV: bumps landed beside what reads looked at.
    [{ redis: { host: '127.0.0.1', keyPrefix: 'kp:' } }, /`redis` has the ioredis `keyPrefix` "kp:"/],
    [{ redis: { options: { keyPrefix: 'kp:' } } }, /`redis` has the ioredis `keyPrefix`/],
    [{ redis: { options: { redisOptions: { keyPrefix: 'kp:' } } } }, /`redis` has the ioredis `keyPrefix`/],
    // A reader waiting past a dead holder's lease would hang for as long as `wait` says.
    [{ lease: { timeout: 1000, wait: 5000 } }, /`lease.wait` must not exceed `lease.timeout` \(1000 ms\), got 5000/],
    [{ lease: { wait: 60_000 } }, /`lease.wait` must not exceed `lease.timeout` \(5000 ms\)/],
  ])('rejects %j at cache(...) with a message saying what to fix', (options, message) => {
    expect(() => cache(options as never)).toThrow(StrataOptionsError)
    expect(() => cache(options as never)).toThrow(message)
  })
})
