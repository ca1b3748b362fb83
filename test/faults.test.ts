// design invariant 7, docs/design.md with real faults: Redis killed, frozen, flushed, read-only, full; foreign bytes under our
// keys; isolation between prefixes, contexts and a Redis ACL user limited to the prefix. In every case each call
// returns what the database holds (compared with an uncached client), none fails, and the fault is counted.
// Each test runs its own redis-server and stops it. The table of what each fault cost is printed at the end.
import { AsyncLocalStorage } from 'node:async_hooks'
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { faultProxy } from './support/fault-proxy.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { redisProxy } from './support/redis-proxy.ts'
import { RunningTime } from './support/running-time.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

const redisTimeout = 100
/** The staleness bound of the tests about it: seconds, so a loaded machine's delays stay far inside it. */
const bound = 3000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const costs: Array<{ fault: string; calls: number; worst: number; errors: string }> = []
/** Per fault with two instances: the stale answers the one that did not write gave, and the last one's lateness. */
const staleness: Array<{ fault: string; stale: number; last: number; errors: string }> = []

describe('faults', () => {
  let db: TestDatabase
  let raw: RawClient
  const ids: number[] = []
  const cleanups: Array<() => Promise<void> | void> = []

  // Bounds on how long a call waits are taken in the time this process could run (test/support/running-time.ts).
  const clock = new RunningTime()

  beforeAll(async () => {
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
    for (let i = 0; i < 5; i++) ids.push((await raw.user.create({ data: { email: `f${i}@x`, name: `n${i}` } })).id)
  })
  afterAll(async () => {
    clock.stop()
    for (const cleanup of cleanups.reverse()) await cleanup()
    await raw?.$disconnect()
    await db?.drop()
    console.log(
      [
        '| fault | calls | slowest call (ms) | errors counted |',
        '|---|---:|---:|---|',
        ...costs.map((c) => `| ${c.fault} | ${c.calls} | ${c.worst.toFixed(0)} | ${c.errors} |`),
        '',
        `| fault (two instances, \`staleness: ${bound}\`) | stale answers after the write | the last, ms after it | errors counted |`,
        '|---|---:|---:|---|',
        ...staleness.map((c) => `| ${c.fault} | ${c.stale} | ${c.stale ? c.last.toFixed(0) : '-'} | ${c.errors} |`),
      ].join('\n'),
    )
  })

  async function server(args: string[] = []): Promise<LocalServer> {
    const s = await startRedisServer({ args })
    cleanups.push(() => s.stop())
    return s
  }

  async function client(options: CacheOptions, wait = true): Promise<{ prisma: CachedClient; errors: string[] }> {
    const errors: string[] = []
    const prisma = newClient('sqlite', db.adapter()).$extends(
      cache({
        redisTimeout,
        onError: (e) => {
          errors.push(e.code)
          if (process.env.STRATA_DEBUG) console.error(e, e.cause)
        },
        ...options,
      }),
    )
    cleanups.push(async () => {
      await prisma.$cache.close()
      await prisma.$disconnect()
    })
    if (wait && options.redis) await waitForBus(prisma)
    return { prisma, errors }
  }

  /** Reads and writes on shared rows; every read is checked against the database. Returns the slowest call. */
  async function load(prisma: CachedClient, calls: number, during?: (i: number) => Promise<void> | void) {
    let worst = 0
    for (let i = 0; i < calls; i++) {
      await during?.(i)
      const id = ids[i % ids.length] as number
      let cached: unknown
      const ms = await clock.measure(async () => {
        if (i % 4 === 3) await prisma.user.update({ where: { id }, data: { name: `w${i}` } })
        cached = await prisma.user.findUnique({ where: { id }, include: { posts: true } })
      })
      worst = Math.max(worst, ms)
      expect(cached).toEqual(await raw.user.findUnique({ where: { id }, include: { posts: true } }))
    }
    return worst
  }

  /**
   * Retries a check for up to a second of running time (yielding between tries), for what is only bounded by the bus
   * delay.
   */
  async function eventually(check: () => Promise<unknown>) {
    const deadline = clock.now() + 1000
    for (;;) {
      try {
        return await check()
      } catch (error) {
        if (clock.now() > deadline) throw error
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }

  function tally(errors: string[]) {
    const counts = new Map<string, number>()
    for (const code of errors) counts.set(code, (counts.get(code) ?? 0) + 1)
    return [...counts].map(([code, n]) => `${code} ×${n}`).join(', ') || 'none'
  }

  function record(fault: string, calls: number, worst: number, errors: string[]) {
    costs.push({ fault, calls, worst, errors: tally(errors) })
  }

  async function hitsResume(prisma: CachedClient, within: number) {
    const before = prisma.$cache.stats()
    const deadline = clock.now() + within
    while (clock.now() < deadline) {
      await load(prisma, 2)
      const now = prisma.$cache.stats()
      if (now.localHits + now.redisHits > before.localHits + before.redisHits) return true
      await new Promise((r) => setTimeout(r, 20))
    }
    return false
  }

  it('Redis killed under load, then restarted', async () => {
    let redis = await server()
    const { prisma, errors } = await client({ redis: redis.url, prefix: 'kill' })
    await load(prisma, 20)
    const worst = await load(prisma, 40, async (i) => {
      if (i === 10) process.kill(redis.pid, 'SIGKILL')
    })
    expect(errors).toContain('E_REDIS_UNAVAILABLE')
    expect(worst).toBeLessThan(4 * redisTimeout + 250)
    redis = await server(['--port', String(redis.port)])
    expect(await hitsResume(prisma, 15_000)).toBe(true)
    record('Redis killed (SIGKILL) under load, then restarted', 40, worst, errors)
  })

  it('Redis frozen (SIGSTOP) then thawed: calls stay bounded, the breaker opens and closes', async () => {
    const redis = await server()
    const { prisma, errors } = await client({ redis: redis.url, prefix: 'freeze' })
    await load(prisma, 20)
    process.kill(redis.pid, 'SIGSTOP')
    let worst = 0
    try {
      worst = await load(prisma, 30)
    } finally {
      process.kill(redis.pid, 'SIGCONT')
    }
    expect(errors).toContain('E_REDIS_UNAVAILABLE')
    expect(errors.length).toBeLessThan(30) // the breaker skipped Redis instead of waiting on every call
    expect(worst).toBeLessThan(4 * redisTimeout + 250)
    expect(await hitsResume(prisma, 15_000)).toBe(true)
    record('Redis frozen (SIGSTOP), then thawed', 30, worst, errors)
  })

  /**
   * Two instances; `b` holds `id` locally; `inject` starts a fault, sends reads that wait on it from both instances
   * (`reads`) and returns once `a` wrote `written` (the fault may still be under way). Then `b` is read until it answers `written`: every stale
   * answer it gives after the bound has elapsed (in the time this process could run, from the write's completion:
   * a loaded machine's stalls of this process are not Strata's lateness) is counted.
   */
  async function staleAfterWrite(
    a: CachedClient,
    b: CachedClient,
    id: number,
    written: string,
    inject: (write: () => Promise<unknown>, reads: () => void) => Promise<void>,
  ) {
    const read = async () => (await b.user.findUniqueOrThrow({ where: { id } })).name
    // b serves the old row from memory. (Read until it does: the bus message of the write that set that row may
    // reach b after its first read, which then filled under versions already moved on.)
    const before = b.$cache.stats().localHits
    for (let i = 0; i < 100 && b.$cache.stats().localHits === before; i++) {
      await read()
      await sleep(5)
    }
    expect(b.$cache.stats().localHits).toBeGreaterThan(before)
    const inFlight: Promise<unknown>[] = []
    // Distinct queries, so each asks Redis and none is coalesced: they fail together when it stalls.
    const reads = () => {
      // (`then` starts them: a read does nothing until it is awaited.)
      for (let i = 0; i < 20; i++) inFlight.push((i % 2 ? a : b).user.findMany({ where: { id, name: `r${i}` } }).then())
    }
    let writtenAt = 0
    const write = async () => {
      await a.user.update({ where: { id }, data: { name: written } })
      writtenAt = clock.now()
    }
    await inject(write, reads)
    let stale = 0
    let staleAfterBound = 0
    let lastStale = writtenAt
    for (let name = await read(); name !== written; name = await read()) {
      const since = clock.now() - writtenAt
      lastStale = writtenAt + since
      stale++
      if (since > bound) staleAfterBound++
      if (since > 5 * bound) throw new Error(`b still answers "${name}" ${5 * bound} ms after the write`)
      await sleep(5) // yield to I/O between reads, as a server handling requests does
    }
    await Promise.all(inFlight)
    return { stale, staleAfterBound, ms: lastStale - writtenAt }
  }

  it.each([
    ['DEBUG SLEEP 1'],
    ['SIGSTOP for 1 s'],
    ['SIGKILL, restarted after 1 s'],
  ])('after a Redis stall (%s), the other instance stops serving the pre-write row within the staleness bound', async (fault) => {
    let redis = await server(['--enable-debug-command', 'yes'])
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 })
    admin.on('error', () => {})
    cleanups.push(() => admin.disconnect())
    const prefix = `stall${costs.length}`
    const a = await client({ redis: redis.url, prefix, staleness: bound })
    const b = await client({ redis: redis.url, prefix, staleness: bound })
    const id = ids[2] as number
    await a.prisma.user.update({ where: { id }, data: { name: `before ${fault}` } })
    const written = `after ${fault}`
    const result = await staleAfterWrite(a.prisma, b.prisma, id, written, async (write, reads) => {
      if (fault.startsWith('DEBUG')) {
        void admin.call('DEBUG', 'SLEEP', '1').catch(() => undefined)
        await sleep(20)
      } else if (fault.startsWith('SIGSTOP')) {
        process.kill(redis.pid, 'SIGSTOP')
        setTimeout(() => process.kill(redis.pid, 'SIGCONT'), 1000)
      } else {
        const port = redis.port
        process.kill(redis.pid, 'SIGKILL')
        setTimeout(async () => {
          redis = await server(['--port', String(port)])
        }, 1000)
      }
      reads()
      await sleep(2 * redisTimeout) // the reads time out together
      await write()
    })
    expect(result.staleAfterBound).toBe(0)
    staleness.push({ fault, stale: result.stale, last: result.ms, errors: tally([...a.errors, ...b.errors]) })
  })

  it('a reader cut off from Redis (a partition that closes nothing) stops serving its local rows within the bound', async () => {
    const redis = await server()
    // A proxy in front of Redis for the reader alone that can stop forwarding while keeping every socket open.
    const proxy = await faultProxy(redis.port)
    cleanups.push(() => proxy.close())
    const port = proxy.port
    const a = await client({ redis: redis.url, prefix: 'partition', staleness: bound })
    const b = await client({ redis: { host: '127.0.0.1', port }, prefix: 'partition', staleness: bound })
    const id = ids[0] as number
    await a.prisma.user.update({ where: { id }, data: { name: 'before the partition' } })
    const result = await staleAfterWrite(
      a.prisma,
      b.prisma,
      id,
      'written during the partition',
      async (write, reads) => {
        proxy.frozen = true
        reads()
        await write()
      },
    )
    proxy.frozen = false
    expect(result.staleAfterBound).toBe(0)
    staleness.push({
      fault: 'the reader partitioned (nothing closes)',
      stale: result.stale,
      last: result.ms,
      errors: tally(b.errors),
    })
  })

  it("the bus's connection closing while it subscribes again after a reconnect leaves no unhandled rejection", async () => {
    // An unhandled rejection ends a Node process by default: ioredis's own resubscription after a reconnect is a
    // command nobody observes, so when the connection closes before Redis answers it, the cache took the app down.
    const redis = await server()
    const proxy = await faultProxy(redis.port)
    cleanups.push(() => proxy.close())
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const { prisma } = await client({ redis: proxy.url, prefix: 'resubscribe' })
      // Every connection drops; on the new ones, SUBSCRIBE is never answered (a Redis that hangs just then).
      proxy.holds = /subscribe/i
      proxy.cut()
      // The reconnect takes this process's time: waited for in the time it could run.
      const until = clock.now() + 10_000
      while (proxy.held === 0 && clock.now() < until) await sleep(10)
      expect(proxy.held).toBeGreaterThan(0)
      await prisma.$cache.close()
      await prisma.$disconnect()
      // Rejections are reported as unhandled once the microtask queue has drained after they settle.
      await sleep(50)
      expect(unhandled.map(String)).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('FLUSHALL under load: no stale row comes back', async () => {
    const redis = await server()
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    const { prisma, errors } = await client({ redis: redis.url, prefix: 'flush' })
    const other = await client({ redis: redis.url, prefix: 'flush' })
    const worst = await load(prisma, 40, async (i) => {
      if (i % 10 === 5) await admin.flushall()
      // The other instance learns of the first one's writes through the bus: equal within the bus delay.
      if (i % 3 === 0) await eventually(() => load(other.prisma, 1))
    })
    record('FLUSHALL every 10 calls, two instances', 40, worst, [...errors, ...other.errors])
  })

  it('a read-only Redis (a replica)', async () => {
    const primary = await server()
    const replica = await server(['--replicaof', '127.0.0.1', String(primary.port)])
    const { prisma, errors } = await client({ redis: replica.url, prefix: 'ro' }, false)
    const worst = await load(prisma, 30)
    expect(errors).toContain('E_REDIS_UNAVAILABLE')
    record('read-only replica', 30, worst, errors)
  })

  it('a full Redis (maxmemory, noeviction)', async () => {
    const redis = await server(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'])
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    const filler = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 64; i++) await admin.set(`filler:${i}`, filler).catch(() => undefined)
    const { prisma, errors } = await client({ redis: redis.url, prefix: 'full' }, false)
    const worst = await load(prisma, 30)
    expect(errors).toContain('E_REDIS_UNAVAILABLE')
    record('full Redis (OOM, noeviction)', 30, worst, errors)
  })

  it('a full Redis refuses a bump: the other instance stops trusting what it invalidated, and the cache resumes when Redis has room', async () => {
    const redis = await server(['--maxmemory-policy', 'noeviction'])
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    const a = await client({ redis: redis.url, prefix: 'oom2', staleness: bound })
    const b = await client({ redis: redis.url, prefix: 'oom2', staleness: bound })
    const id = ids[3] as number
    await a.prisma.user.update({ where: { id }, data: { name: 'before the full Redis' } })
    const filler = 'x'.repeat(64 * 1024)
    const result = await staleAfterWrite(a.prisma, b.prisma, id, 'written into a full Redis', async (write, reads) => {
      // Used memory above maxmemory: Redis refuses every command that may grow it, INCR of a version key included.
      for (let i = 0; i < 40; i++) await admin.set(`filler:${i}`, filler)
      await admin.config('SET', 'maxmemory', '1mb')
      // An INCR of a version key that exists grows nothing, and a full Redis may take it: without the version keys,
      // the bump must create them, which a full Redis refuses.
      for (const key of await admin.keys('{oom2}:v:*')) await admin.del(key)
      reads()
      await write()
    })
    expect(a.errors).toContain('E_REDIS_UNAVAILABLE') // the bump was refused
    expect(result.staleAfterBound).toBe(0)
    // Redis stays full: b keeps answering from the database, never from what it held.
    for (const until = Date.now() + bound; Date.now() < until; await sleep(50)) {
      expect((await b.prisma.user.findUniqueOrThrow({ where: { id } })).name).toBe('written into a full Redis')
    }
    staleness.push({
      fault: 'full Redis refuses the bump',
      stale: result.stale,
      last: result.ms,
      errors: tally([...a.errors, ...b.errors]),
    })
    await admin.config('SET', 'maxmemory', '0')
    expect(await hitsResume(b.prisma, 15_000)).toBe(true)
    expect(await hitsResume(a.prisma, 15_000)).toBe(true)
  })

  it('100,000 owed tag bumps clear once Redis is back, and reach every entry carrying one of the tags', async () => {
    const redis = await server()
    const { prisma, errors } = await client({ redis: redis.url, prefix: 'backlog' })
    const authorId = ids[4] as number
    const feed = () => prisma.post.findMany({ where: { authorId }, cache: { tags: ['feed'] } })
    await feed()
    await feed()
    await raw.post.create({ data: { title: 'behind the cache', authorId } }) // only the tag invalidation tells
    const tags = Array.from({ length: 100_000 }, (_, i) => `tag-${i}`)
    process.kill(redis.pid, 'SIGSTOP')
    try {
      await prisma.$cache.invalidate({ tags: [...tags, 'feed'] })
    } finally {
      process.kill(redis.pid, 'SIGCONT')
    }
    expect(errors).toContain('E_REDIS_UNAVAILABLE')
    const expected = await raw.post.findMany({ where: { authorId } })
    expect(await feed()).toEqual(expected)
    expect(await hitsResume(prisma, 15_000)).toBe(true)
    expect(await feed()).toEqual(expected)
  })

  it('foreign, truncated and old-format bytes under our keys are misses', async () => {
    const redis = await server()
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    const writer = await client({ redis: redis.url, prefix: 'junk' })
    await load(writer.prisma, 10)
    const keys = await admin.keys('junk:e:*')
    expect(keys.length).toBeGreaterThan(0)
    for (const [i, key] of keys.entries()) {
      const value = (await admin.getBuffer(key)) as Buffer
      const junk = [Buffer.from('{"not":"ours"}'), value.subarray(0, value.length - 5), Buffer.from([0x53, 99, 1, 2])]
      await admin.set(key, junk[i % junk.length] as Buffer, 'EX', 60)
    }
    const reader = await client({ redis: redis.url, prefix: 'junk', local: false })
    const worst = await load(reader.prisma, 20)
    expect(reader.errors).toContain('E_CODEC')
    record('foreign / truncated / other-format bytes', 20, worst, reader.errors)
  })

  it('oversized results are served, not cached', async () => {
    const { prisma, errors } = await client({ maxEntryBytes: 64 })
    const worst = await load(prisma, 10)
    expect(errors).toContain('E_ENTRY_TOO_LARGE')
    expect(prisma.$cache.stats().localHits).toBe(0)
    record('results over maxEntryBytes', 10, worst, errors)
  })

  it('two prefixes on one Redis never share entries, versions or messages', async () => {
    const redis = await server()
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    const a = await client({ redis: redis.url, prefix: 'appA' })
    const b = await client({ redis: redis.url, prefix: 'appB', local: false })
    await load(a.prisma, 10)
    await load(b.prisma, 10)
    await b.prisma.user.findMany()
    await b.prisma.user.findMany()
    expect(b.prisma.$cache.stats().redisHits).toBeGreaterThan(0) // its own entries...
    const keys = await admin.keys('*')
    expect(keys.every((k) => /^(appA:|\{appA\}:|appB:|\{appB\}:)/.test(k))).toBe(true)
    const aKeys = keys.filter((k) => k.includes('appA')).length
    await load(b.prisma, 10)
    expect((await admin.keys('*')).filter((k) => k.includes('appA')).length).toBe(aKeys) // ...never A's
  })

  it('two contexts never share an entry; a missing context is not cached', async () => {
    const tenant = new AsyncLocalStorage<string>()
    const { prisma, errors } = await client({ context: () => tenant.getStore() })
    const id = ids[0] as number
    const read = () => prisma.user.findUnique({ where: { id } })
    await tenant.run('t1', read)
    await tenant.run('t1', read)
    expect(prisma.$cache.stats().localHits).toBe(1)
    await tenant.run('t2', read)
    expect(prisma.$cache.stats().localHits).toBe(1) // t2 missed: t1's entry is not its own
    expect(prisma.$cache.stats().misses).toBe(2)
    await read() // no context
    expect(errors).toEqual(['E_CONTEXT_MISSING'])
    expect(prisma.$cache.stats().bypasses).toBe(1)
  })

  it('a write-only instance cut off from Redis: its bump lands once Redis is back, with no read of its own', async () => {
    const redis = await server()
    // A TCP proxy in front of Redis for the writer alone; cutting it drops its connections and refuses new ones.
    const proxy = await redisProxy(redis.port)
    cleanups.push(() => proxy.close())
    const port = proxy.port
    // No retries in ioredis: a command that meets the cut fails for good instead of waiting in its offline queue.
    const writer = await client({ redis: { host: '127.0.0.1', port, maxRetriesPerRequest: 0 }, prefix: 'owed' })
    const reader = await client({ redis: redis.url, prefix: 'owed' })
    const id = ids[1] as number
    const read = async () => (await reader.prisma.user.findUniqueOrThrow({ where: { id } })).name
    await read()
    proxy.cut()
    await writer.prisma.user.update({ where: { id }, data: { name: 'written while cut off' } }) // the bump fails
    expect(writer.errors).toContain('E_REDIS_UNAVAILABLE')
    await new Promise((r) => setTimeout(r, 1000)) // long enough for ioredis to give up on the queued bump
    proxy.mend()
    const deadline = clock.now() + 5000
    let seen = await read()
    while (seen !== 'written while cut off' && clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      seen = await read()
    }
    expect(seen).toBe('written while cut off')
  })

  it('a bus connection that dies without closing (half-open) is noticed by the heartbeat, and rebuilt', async () => {
    const redis = await server()
    // A proxy that can stop forwarding while keeping every socket open: nothing closes, nothing arrives.
    const proxy = await faultProxy(redis.port)
    cleanups.push(() => proxy.close())
    const port = proxy.port
    const { prisma, errors } = await client({ redis: { host: '127.0.0.1', port }, prefix: 'halfopen', heartbeat: 100 })
    expect(prisma.$cache.ready).toBe(true)
    proxy.frozen = true
    const started = clock.now()
    while (prisma.$cache.ready && clock.now() - started < 3000) await new Promise((r) => setTimeout(r, 20))
    expect(prisma.$cache.ready).toBe(false) // local state dropped: no stale local hit from a deaf bus
    expect(errors).toContain('E_BUS')
    proxy.frozen = false
    expect(await prisma.$cache.whenReady(5000)).toBe(true)
  })

  it('a slow but answering Redis adds at most one timeout to a read, however many commands it needs', async () => {
    const redis = await server()
    // A proxy that delays every chunk by 70 ms each way: a 140 ms round trip, under the timeout set below.
    const proxy = await faultProxy(redis.port, { delayMs: 70 })
    cleanups.push(() => proxy.close())
    const port = proxy.port
    const { prisma } = await client({
      redis: { host: '127.0.0.1', port },
      prefix: 'slow',
      redisTimeout: 200,
      lease: true,
      local: false,
    })
    let slowest = 0
    for (let i = 0; i < 6; i++) {
      // Distinct queries: each misses, so each would need versions, a GET, a lease and a second GET.
      let found: unknown
      const ms = await clock.measure(async () => {
        found = await prisma.user.findMany({ where: { name: `none-${i}` } })
      })
      expect(found).toEqual([])
      slowest = Math.max(slowest, ms)
    }
    expect(slowest).toBeLessThan(200 + 150)
    record('slow Redis (140 ms round trips), leases on', 6, slowest, [])
  })

  it('a Redis ACL user limited to the prefix (keys and channels) is all Strata needs', async () => {
    // The commands Strata sends, directly or from its scripts, and nothing else.
    const acl =
      'user strata on >s3cret resetkeys ~acl:* ~{acl}:* resetchannels &acl:* -@all +@connection +info +get +set +incr +pttl +pexpire +time +exists +sadd +smembers +evalsha +eval +publish +subscribe +hget +hmget +hset +del'
    const redis = await server()
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    await admin.call('ACL', 'SETUSER', ...acl.split(' ').slice(1))
    const { prisma, errors } = await client({
      redis: { host: '127.0.0.1', port: redis.port, username: 'strata', password: 's3cret' },
      prefix: 'acl',
      redisTimeout: 2000, // an error here must be a refused command, not a slow machine
      models: { User: { strategy: 'write-through' } }, // row scripts too
    })
    await load(prisma, 20)
    await prisma.user.findMany()
    await prisma.user.findMany()
    for (const id of ids) await prisma.user.findUnique({ where: { id } })
    expect(errors).toEqual([])
    expect(prisma.$cache.stats().localHits).toBeGreaterThan(0)
  })
})
