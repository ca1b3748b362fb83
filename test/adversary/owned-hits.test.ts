// ADVERSARY (commits ddc7819, 61f1639): without a local tier a Redis hit hands its decoded entry to the read that
// looked it up as is, and every other read of the flight gets a copy of a second decoding (`OwnedHit.master`).
// Each test makes many identical reads on Redis-only instances, mutates every answer as soon as it arrives (after
// checking it against the uncached client), and checks later reads too.
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../../prisma/database.ts'
import { type FaultProxy, faultProxy } from '../support/fault-proxy.ts'
import { newClient, newDatabase, type RawClient, waitForBus } from '../support/matrix.ts'
import { redisUrl } from '../support/services.ts'

// biome-ignore lint/suspicious/noExplicitAny: any field of any answer is mutated
type Any = Record<string, any>

/** Mutates everything a caller can reach in an answer: fields, Dates, Bytes, Json, relation arrays. */
function vandalise(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 6) return
  if (value instanceof Date) {
    value.setTime(0)
    return
  }
  if (value instanceof Uint8Array) {
    value.fill(0xee)
    return
  }
  if (Array.isArray(value)) {
    for (const item of value) vandalise(item, depth + 1)
    value.push({ id: -1, title: 'INTRUDER' })
    value.reverse()
    return
  }
  if (typeof (value as Any).toFixed === 'function' && 'd' in (value as Any)) return // Decimal: see its own test
  for (const key of Object.keys(value)) {
    const item = (value as Any)[key]
    if (item !== null && typeof item === 'object') vandalise(item, depth + 1)
    else if (typeof item === 'string') (value as Any)[key] = `${item}-MUTATED`
    else if (typeof item === 'number') (value as Any)[key] = item + 1000
    else if (typeof item === 'boolean') (value as Any)[key] = !item
  }
  ;(value as Any).extra = 'ADDED'
}

/** A deep snapshot a caller's later mutation cannot reach: Decimals by text, Dates and Bytes copied. */
function snap(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Uint8Array) return Array.from(value)
  if (Array.isArray(value)) return value.map(snap)
  if (typeof (value as Any).toFixed === 'function' && 'd' in (value as Any)) return `Decimal(${String(value)})`
  return Object.fromEntries(Object.keys(value).map((k) => [k, snap((value as Any)[k])]))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('Redis-only hits: every reader owns its answer', () => {
  let db: TestDatabase
  let raw: RawClient
  let url: string
  let proxy: FaultProxy
  let admin: Redis
  let seq = 0
  const closers: Array<() => Promise<void>> = []
  let userId = 0

  beforeAll(async () => {
    db = await newDatabase('postgres')
    raw = newClient('postgres', db.adapter())
    url = await redisUrl()
    admin = new Redis(url)
    proxy = await faultProxy(Number(new URL(url).port || 6379), { delayMs: 15 })
    const user = await raw.user.create({
      data: {
        email: 'own@example.com',
        name: 'Ada',
        balance: '12.5',
        karma: 7n,
        avatar: new Uint8Array([1, 2, 3, 4]),
        prefs: { theme: { dark: true, list: [1, 2, { x: 'y' }] } },
        posts: { create: [{ title: 'one', views: 1 }, { title: 'two', views: 2 }, { title: 'three' }] },
      },
    })
    userId = user.id
  })
  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) await close()
    await proxy?.close()
    admin?.disconnect()
    await raw?.$disconnect()
    await db?.drop()
  })

  async function client(options: Any = {}, prefix = `own${process.pid}x${seq++}`, viaProxy = false) {
    const errors: string[] = []
    const prisma = newClient('postgres', db.adapter()).$extends(
      cache({
        redis: viaProxy ? proxy.url : url,
        local: false,
        prefix,
        redisTimeout: 5000,
        onError: (e) => errors.push(e.code),
        ...options,
      }),
    )
    closers.push(async () => {
      await prisma.$cache.close()
      await prisma.$disconnect()
    })
    await waitForBus(prisma)
    return { prisma, errors, prefix }
  }

  /** The query entries stored under `prefix`, by key. */
  async function entries(prefix: string): Promise<Map<string, Buffer | null>> {
    const keys = await admin.keys(`${prefix}:e:*`)
    const values = keys.length > 0 ? await admin.mgetBuffer(...keys) : []
    return new Map(keys.map((key, i) => [key, values[i] ?? null]))
  }

  /**
   * Runs `fill` (a miss) and waits until its entry is in Redis, which a fill stores after the answer: a key of
   * `prefix` that is new or holds other bytes. Bounded by the test's timeout, not by a guess at how long that takes.
   */
  async function filled(prefix: string, fill: () => PromiseLike<unknown>): Promise<void> {
    const before = await entries(prefix)
    await fill()
    for (;;) {
      for (const [key, bytes] of await entries(prefix)) {
        const old = before.get(key)
        if (old === undefined || (bytes !== null && (old === null || !bytes.equals(old)))) return
      }
      await sleep(5)
    }
  }

  /**
   * Runs `n` identical reads (started `gapMs` apart), each checked against `expected` the moment it arrives, then
   * vandalised; then one more read, checked too.
   */
  async function burst(read: () => PromiseLike<unknown>, expected: unknown, n = 12, gapMs = 0) {
    const seen: unknown[] = []
    const reads: Promise<void>[] = []
    for (let i = 0; i < n; i++) {
      reads.push(
        Promise.resolve(read()).then((mine) => {
          seen.push(snap(mine))
          vandalise(mine)
        }),
      )
      if (gapMs > 0) await sleep(gapMs)
    }
    await Promise.all(reads)
    const want = snap(expected)
    for (const answer of seen) expect(answer).toEqual(want)
    expect(snap(await read())).toEqual(want)
  }

  const args = () => ({
    where: { id: userId },
    include: { posts: { orderBy: { id: 'asc' as const }, include: { comments: true } }, profile: true },
  })

  it('findUnique with relations, all types: a burst of identical reads, every answer mutated on arrival', async () => {
    const { prisma, errors, prefix } = await client()
    const expected = await raw.user.findUnique(args())
    await filled(prefix, () => prisma.user.findUnique(args()))
    prisma.$cache.resetStats()
    await burst(() => prisma.user.findUnique(args()), expected, 16)
    expect(prisma.$cache.stats().redisHits).toBeGreaterThan(0)
    expect(prisma.$cache.stats().coalesced).toBeGreaterThan(0)
    expect(errors).toEqual([])
  })

  it('OrThrow reads (row and no row), findFirst, findMany with take, count, through a slow Redis', async () => {
    const { prisma, prefix } = await client({}, undefined, true)
    // biome-ignore lint/suspicious/noExplicitAny: the reads run on clients of several extension stacks
    const reads: Array<[(p: any) => PromiseLike<unknown>]> = [
      [(p) => p.user.findUniqueOrThrow(args())],
      [(p) => p.user.findFirstOrThrow({ where: { email: 'own@example.com' }, include: { posts: true } })],
      [(p) => p.post.findMany({ orderBy: { id: 'asc' }, take: 2 })],
      [(p) => p.post.findMany({ where: { authorId: userId }, orderBy: { id: 'asc' }, take: 3, skip: 0 })],
      [(p) => p.post.count({ where: { authorId: userId } })],
      [(p) => p.user.groupBy({ by: ['role'], _sum: { balance: true }, orderBy: { role: 'asc' } })],
    ]
    for (const [read] of reads) {
      const expected = await read(raw)
      await filled(prefix, () => read(prisma))
      await burst(() => read(prisma), expected, 10, 3)
    }
    // No row, thrown each time
    const missing = () => prisma.user.findUniqueOrThrow({ where: { id: 999_999 } })
    await filled(prefix, () => expect(missing()).rejects.toThrow())
    const all = await Promise.allSettled(Array.from({ length: 8 }, missing))
    expect(all.every((r) => r.status === 'rejected')).toBe(true)
    expect(prisma.$cache.stats().redisHits).toBeGreaterThan(0)
  })

  it('staggered joins on a slow Redis: reads started while the lookup is under way and after it settled', async () => {
    const { prisma, prefix } = await client({}, undefined, true)
    const expected = await raw.user.findUnique(args())
    await filled(prefix, () => prisma.user.findUnique(args()))
    prisma.$cache.resetStats()
    await burst(() => prisma.user.findUnique(args()), expected, 30, 2)
    // Which reads join depends on the machine's timing (a loaded one may let each finish before the next starts):
    // the answers are what is checked; the joins themselves are asserted by the first test, in one tick.
    expect(prisma.$cache.stats().redisHits).toBeGreaterThan(0)
  })

  it('fluent reads and $cache.wrap', async () => {
    const { prisma, prefix } = await client({}, undefined, true)
    const fluent = () => prisma.user.findUnique({ where: { id: userId } }).posts({ orderBy: { id: 'asc' } })
    const expectedPosts = await raw.user.findUnique({ where: { id: userId } }).posts({ orderBy: { id: 'asc' } })
    await filled(prefix, fluent)
    await burst(fluent, expectedPosts, 12, 1)

    const value = { a: { b: [1, 2, { c: 'd' }] }, when: 'x', list: [{ n: 1 }] }
    const wrap = () => prisma.$cache.wrap('owned-key', async () => structuredClone(value), { ttl: 60 })
    await filled(prefix, wrap)
    await burst(wrap, value, 12, 1)
  })

  it('two instances on one prefix: one fills, the other reads bursts', async () => {
    const { prisma: a, prefix } = await client()
    const { prisma: b } = await client({}, prefix, true)
    const expected = await raw.user.findUnique(args())
    await filled(prefix, () => a.user.findUnique(args()))
    await burst(() => b.user.findUnique(args()), expected, 16, 1)
    await burst(() => a.user.findUnique(args()), expected, 16, 0)
  })

  it('swr: a stale entry served to a burst while it is refreshed', async () => {
    const { prisma, prefix } = await client(
      {
        models: {
          User: { ttl: 1, swr: 60 },
          Post: { ttl: 1, swr: 60 },
          Comment: { ttl: 1, swr: 60 },
          Profile: { ttl: 1, swr: 60 },
        },
      },
      undefined,
      true,
    )
    const expected = await raw.user.findUnique(args())
    await filled(prefix, () => prisma.user.findUnique(args()))
    await sleep(1200) // past the 1 s TTL: stale, within swr
    prisma.$cache.resetStats()
    await burst(() => prisma.user.findUnique(args()), expected, 16, 1)
    expect(prisma.$cache.stats().stale).toBeGreaterThan(0)
    await sleep(200)
    await burst(() => prisma.user.findUnique(args()), expected, 8, 0)
  })

  it('result extensions below and above the cache: computed fields on shared hits', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the reads run on clients of several extension stacks
    const ext = (c: any) =>
      c.$extends({
        result: {
          user: {
            label: { needs: { name: true, email: true }, compute: (u: Any) => `${u.name} <${u.email}>` },
            tags: { needs: { name: true }, compute: (u: Any) => [u.name, { n: u.name }] },
          },
        },
      })
    const prefix = `own${process.pid}x${seq++}`
    const below = ext(newClient('postgres', db.adapter())).$extends(
      cache({ redis: proxy.url, local: false, prefix, redisTimeout: 5000 }),
    )
    const above = ext(
      newClient('postgres', db.adapter()).$extends(
        cache({ redis: proxy.url, local: false, prefix, redisTimeout: 5000 }),
      ),
    )
    closers.push(async () => {
      for (const c of [below, above]) {
        await c.$cache.close()
        await c.$disconnect()
      }
    })
    const oracle = ext(raw)
    // biome-ignore lint/suspicious/noExplicitAny: the reads run on clients of several extension stacks
    const read = (p: any) =>
      p.user.findUnique({ where: { id: userId }, include: { posts: { orderBy: { id: 'asc' } } } })
    const expected = await read(oracle)
    // One entry for both: the instance above reads the one below filled and stores none of its own.
    await filled(prefix, () => read(below))
    for (const p of [below, above]) await burst(() => read(p), expected, 12, 1)
  })

  it('args object reused and mutated after each answer', async () => {
    const { prisma, prefix } = await client({}, undefined, true)
    const shared = args()
    const expected = await raw.user.findUnique(args())
    await filled(prefix, () => prisma.user.findUnique(shared))
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        prisma.user.findUnique(shared).then((r) => {
          const copy = snap(r)
          ;(shared.include.posts as Any).orderBy = { id: 'desc' }
          vandalise(r)
          ;(shared.include.posts as Any).orderBy = { id: 'asc' }
          return copy
        }),
      ),
    )
    for (const r of results) expect(r).toEqual(snap(expected))
    expect(snap(await prisma.user.findUnique(shared))).toEqual(snap(expected))
  })

  it('reads around a write: a burst, a write, a burst', async () => {
    const { prisma, prefix } = await client({}, undefined, true)
    await filled(prefix, () => prisma.user.findUnique(args()))
    const before = await raw.user.findUnique(args())
    await burst(() => prisma.user.findUnique(args()), before, 8, 1)
    await prisma.post.updateMany({ where: { authorId: userId }, data: { views: { increment: 1 } } })
    const after = await raw.user.findUnique(args())
    await filled(prefix, () => prisma.user.findUnique(args()))
    await burst(() => prisma.user.findUnique(args()), after, 8, 1)
  })

  it('a fluent read and a plain read of the same text share one flight: each owns its answer', async () => {
    const { prisma, prefix } = await client({}, undefined, true)
    const plainArgs = { where: { id: userId }, select: { posts: true } }
    const expected = await raw.user.findUnique(plainArgs)
    await filled(prefix, () => prisma.user.findUnique(plainArgs))
    prisma.$cache.resetStats()
    const seen: unknown[] = []
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0
          ? prisma.user.findUnique({ where: { id: userId } }).posts()
          : prisma.user.findUnique({ where: { id: userId }, select: { posts: true } }).then((u) => u?.posts)
        ).then((mine) => {
          seen.push(snap(mine))
          vandalise(mine)
        }),
      ),
    )
    for (const answer of seen) expect(answer).toEqual(snap(expected?.posts))
    expect(prisma.$cache.stats().coalesced).toBeGreaterThan(0)
  })

  /**
   * Runs `check` with `decimal`'s sign flipped in its internals (decimal.js keeps its sign, exponent and digits in
   * plain writable fields), then flips it back: the memo is the process's, and later files of this worker decode
   * the same value.
   */
  async function withSignFlipped(decimal: unknown, check: () => Promise<void>): Promise<void> {
    const fields = decimal as Any
    const sign = fields.s
    fields.s = -sign
    try {
      await check()
    } finally {
      fields.s = sign
    }
  }

  // LIMIT (documented in README "Limitations"): Decimals decoded from Redis come from a process-wide memo by text, so
  // answers (and fields) holding the same value hold the same instance, where an uncached client gives each its own.
  // decimal.js's API never changes an instance; only writing its internal fields (`s`, `e`, `d`) shows the sharing.
  it.fails('Decimal: mutating the internals of one answer’s Decimal does not change a later, separate read', async () => {
    const { prisma, prefix } = await client()
    const read = () => prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { balance: true } })
    const expected = (await raw.user.findUniqueOrThrow({ where: { id: userId }, select: { balance: true } })).balance
    await filled(prefix, read)
    const first = await read()
    expect(first.balance.toString()).toBe(expected.toString())
    await withSignFlipped(first.balance, async () => {
      const second = await read() // a separate read, not sharing a flight
      expect(prisma.$cache.stats().redisHits).toBeGreaterThanOrEqual(2)
      expect(second.balance.toString()).toBe(expected.toString())
    })
  })

  it.fails('Decimal: two fields of one aggregate answer with the same value are independent, as Prisma gives them', async () => {
    const { prisma, prefix } = await client()
    const q = { where: { id: userId }, _sum: { balance: true }, _max: { balance: true } } as const
    const oracle = await raw.user.aggregate(q)
    await filled(prefix, () => prisma.user.aggregate(q))
    const hit = await prisma.user.aggregate(q)
    expect(prisma.$cache.stats().redisHits).toBeGreaterThanOrEqual(1)
    ;(oracle._sum.balance as unknown as Any).s = -(oracle._sum.balance as unknown as Any).s
    await withSignFlipped(hit._sum.balance, async () => {
      expect(String(hit._max.balance)).toBe(String(oracle._max.balance))
    })
  })

  // Found by this adversary (from 9eb4fa7): on a miss, every read of the flight was thrown Prisma's one not-found error
  // instance; the reads that share the flight now get one of their own.
  it('OrThrow with no row, concurrent: each caller gets an error of its own', async () => {
    const { prisma } = await client()
    const read = () => prisma.user.findUniqueOrThrow({ where: { id: 888_888 } })
    const errors = (await Promise.allSettled(Array.from({ length: 6 }, read))).map((r) =>
      r.status === 'rejected' ? (r.reason as Error) : undefined,
    )
    const message = errors[0]?.message
    ;(errors[0] as Error).message = 'MUTATED'
    for (const e of errors.slice(1)) expect(e?.message).toBe(message)
  })
})
