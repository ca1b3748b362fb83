// What an instance knows comes from two connections (commands and their replies, and the bus) and from its own
// writes, and they do not arrive in the order they happened: a reply that Redis made before a write's bump can
// come after the write's bus message, or after the write's own bump failed; a query sent before a write can still
// be under way when the write is heard of. None of them may bring back an answer older than what the instance
// already knows. Made deterministic with a proxy that holds one instance's replies (or drops its commands) while
// the rest goes on, and statement holds; every answer is compared with an uncached client.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, faultProxy } from './support/fault-proxy.ts'
import { holdNextSelect } from './support/hold-statement.ts'
import { type Setup, setupCase } from './support/matrix.ts'
import { RunningTime } from './support/running-time.ts'
import { redisUrl } from './support/services.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('replies, bus messages and failed bumps out of order', () => {
  let s: Setup
  let proxy: FaultProxy
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  const clock = new RunningTime()
  let seq = 0

  beforeAll(async () => {
    s = await setupCase({ provider: 'sqlite', tiers: 'two-tier' }, {}, { afterQuery: (sql) => hold?.(sql) })
    proxy = await faultProxy(Number(new URL(await redisUrl()).port))
  })
  afterEach(() => {
    proxy.sends = undefined
    hold = undefined
    proxy.holds = undefined
    proxy.watch = undefined
    proxy.release()
  })
  afterAll(async () => {
    clock.stop()
    await s?.close()
    await proxy?.close()
  })

  /** Waits, in the time this process could run, until `done`. */
  async function until(done: () => boolean, what: string) {
    const deadline = clock.now() + 10_000
    while (!done() && clock.now() < deadline) await sleep(5)
    expect(done(), what).toBe(true)
  }

  /** An author with one post titled 'before', and the read of the author's posts. */
  async function authorWithPost() {
    const author = await s.raw.user.create({ data: { email: `order${++seq}@x` } })
    const post = await s.raw.post.create({ data: { title: 'before', authorId: author.id } })
    const list = { where: { authorId: author.id } }
    const oracle = async () => (await s.raw.post.findMany(list))[0]?.title
    return { author, post, list, oracle }
  }

  it('a bump heard on the bus before the reply of a read Redis answered just before it: the reply does not undo it', async () => {
    const { post, list, oracle } = await authorWithPost()
    // An entry of the author's posts in Redis, filled before the write (waited for in running time).
    const entries = async () => (await s.redis?.keys(`${s.prefix}:e:Post:*`))?.length ?? 0
    const before = await entries()
    expect((await s.prisma.post.findMany(list))[0]?.title).toBe('before')
    const filled = clock.now() + 10_000
    while ((await entries()) === before && clock.now() < filled) await sleep(10)
    expect(await entries(), 'the fill reached Redis').toBe(before + 1)

    // An instance that never read the author's posts, its commands through the proxy. Its first read of them asks
    // Redis for their versions (and the entry) in one script call; Redis answers, and the proxy keeps the reply.
    // Its Redis budget is generous: the reply is held on purpose, and must not time out meanwhile.
    const late = await s.instance({ redis: proxy.url, redisTimeout: 60_000 })
    proxy.stalls = /evalsha/i
    const first = late.post.findMany(list).then((posts) => posts) // Prisma's promise runs once awaited
    await until(() => proxy.stalled > 0, 'the version read was answered by Redis and its reply kept')

    // Meanwhile a write through another instance commits and bumps; its bus message reaches the late instance
    // (its bus connection is not held) before the reply does.
    proxy.watched = 0
    proxy.watch = / p:Post:/ // a predicate of Post in a bus message (heartbeats name none)
    await s.prisma.post.update({ where: { id: post.id }, data: { title: 'after' } })
    await until(() => proxy.watched > 0, 'the bump reached the late instance on the bus')
    await sleep(20) // the message is in the late instance's socket: it is most likely taken in before the reply
    proxy.release()

    // The first read ran alongside the write: either answer is its own. The late instance may answer 'before'
    // until its bus has delivered the write (bounded staleness), never after: kept, the reply's older version
    // would keep answering 'before' until the next write to the author's posts.
    expect(['before', 'after']).toContain((await first)[0]?.title)
    const want = await oracle()
    const deadline = clock.now() + 10_000
    while ((await late.post.findMany(list))[0]?.title !== want && clock.now() < deadline) await sleep(10)
    for (let i = 0; i < 3; i++) expect((await late.post.findMany(list))[0]?.title).toBe(want)
  })

  it("a reply Redis made after a write's bump, arriving once that bump has failed: the writer still reads its write", async () => {
    const { post, list, oracle } = await authorWithPost()
    const other = await s.raw.user.create({ data: { email: `other${seq}@x` } })
    // The writer's commands go through the proxy. Its budget leaves room for the steps below on a loaded machine:
    // the bump must time out while a read sent after it is still within its own budget.
    const budget = 3000
    const writer = await s.instance({ redis: proxy.url, redisTimeout: budget })
    expect((await writer.post.findMany(list))[0]?.title).toBe('before')
    expect((await writer.post.findMany(list))[0]?.title).toBe('before') // a local entry, filled before the write

    // The write's bump runs in Redis, but its reply is held: the writer gives up on it (owed) after its budget.
    proxy.stalls = /evalsha/i
    const write = writer.post.update({ where: { id: post.id }, data: { title: 'after' } }).then((p) => p)
    await until(() => proxy.stalled > 0, 'the bump ran in Redis, its reply is held')
    await sleep(budget / 2)
    // A read of other versions (of another author, the model's predicate epoch among them), sent after the bump
    // ran: Redis answers it with versions from after the bump, and that reply is held too.
    const stalled = proxy.stalled
    const read = writer.post.findMany({ where: { authorId: other.id } }).then((p) => p)
    await until(() => proxy.stalled > stalled, 'the read ran in Redis after the bump, its reply is held')

    await write // the bump timed out: it is owed, and retried
    proxy.holds = /evalsha/i // the retries never reach Redis
    expect((await writer.post.findMany(list))[0]?.title, 'just after the write').toBe(await oracle())
    proxy.release() // the read's reply arrives, within its budget
    await read
    for (let i = 0; i < 3; i++) expect((await writer.post.findMany(list))[0]?.title).toBe(await oracle())
  })

  it('a read begun after a write was heard of does not share a query sent before it', async () => {
    const { post, list, oracle } = await authorWithPost()
    const bus = new Redis(await redisUrl())
    const heard: string[] = []
    try {
      await bus.subscribe(`${s.prefix}:bus`)
      bus.on('message', (_channel, text: string) => heard.push(text))
      // The writer's bump never reaches Redis: it tells the bus "!" (do not trust these names) instead.
      const writer = await s.instance({ redis: proxy.url, redisTimeout: 300 })

      // A read of the author's posts: its SELECT answered 'before' and held before Prisma gets it.
      const held = holdNextSelect('Post')
      hold = held.hook
      const first = s.prisma.post.findMany(list).then((p) => p)
      await held.held

      // Another read of posts, cached on the reader: a local hit until the reader hears the write.
      const other = { where: { title: `other${seq}` } }
      await s.prisma.post.findMany(other)
      await s.prisma.post.findMany(other)

      proxy.holds = /evalsha/i
      await writer.post.update({ where: { id: post.id }, data: { title: 'after' } })
      await until(() => heard.some((m) => m.split(' ')[1] === '!'), 'the writer told the bus its bump failed')
      // The reader has heard it once that other read goes to the database (its versions are no longer trusted).
      const deadline = clock.now() + 10_000
      for (;;) {
        s.counting.reset()
        await s.prisma.post.findMany(other)
        if (s.counting.count() > 0 || clock.now() > deadline) break
        await sleep(5)
      }
      expect(s.counting.count(), 'the reader heard of the write').toBeGreaterThan(0)

      // The same read again, begun after the reader heard of the write: Redis gives it no versions (a dependency
      // is not to be trusted), and the first read's query is still under way.
      const second = s.prisma.post.findMany(list).then((p) => p)
      await sleep(20)
      held.release()
      expect(['before', 'after']).toContain((await first)[0]?.title) // ran alongside the write
      expect((await second)[0]?.title).toBe(await oracle())
    } finally {
      bus.disconnect()
    }
  })

  /** Whether a row entry of Post is in Redis. */
  async function rowStored() {
    for (const key of (await s.redis?.keys(`${s.prefix}:r:Post:*`)) ?? [])
      if (await s.redis?.hexists(key, 'd')) return true
    return false
  }

  it("a read begun after the process's own write does not share a flight whose snapshot was taken before it", async () => {
    const { author, post } = await authorWithPost()
    const byId = { where: { id: post.id } }
    const oracle = async () => (await s.raw.post.findUnique(byId))?.title
    const writeThrough = { models: { Post: { strategy: 'write-through' } } } as const
    // The row's entry in Redis, filled by another instance before the write (waited for in running time).
    const filler = await s.instance(writeThrough)
    expect((await filler.post.findUnique(byId))?.title).toBe('before')
    const filled = clock.now() + 10_000
    while (!(await rowStored()) && clock.now() < filled) await sleep(10)
    expect(await rowStored(), "the row's entry reached Redis").toBe(true)

    // An instance whose commands go through the proxy, which has written (its bump script is loaded) but never
    // read Post: its first read of the row asks Redis for Post's versions, and the proxy keeps the reply.
    // (Trusting what it knows throughout: see the staleness bound in flights-owed.test.ts.)
    const writer = await s.instance({ ...writeThrough, redis: proxy.url, redisTimeout: 60_000, staleness: 600_000 })
    await writer.user.update({ where: { id: author.id }, data: { email: author.email } })
    proxy.stalled = 0
    proxy.stalls = /evalsha/i
    const first = writer.post.findUnique(byId).then((p) => p)
    await until(() => proxy.stalled > 0, "the first read's versions were read by Redis, the reply kept")
    // The same instance writes the row in raw SQL: the statement commits, and its bump runs in Redis after that
    // read (its reply kept behind the read's).
    const stalled = proxy.stalled
    const write = writer.$executeRaw`UPDATE "Post" SET "title" = 'after' WHERE "id" = ${post.id}`.then((n) => n)
    await until(() => proxy.stalled > stalled, 'the bump ran in Redis, its reply kept')
    // The versions reply arrives: the first read, with Post's versions from before the write, asks Redis for its
    // row's entry (that reply kept, behind the bump's).
    proxy.sent = 0
    proxy.sends = /:r:Post:/
    proxy.releaseSome()
    await until(() => proxy.sent === 1, 'the first read asked Redis for the row')
    // The bump's reply arrives (and any before the row's): the write returns. A read begun then asks Redis for the
    // same row; only when its request is out does the first read get its entry (current under its versions, from
    // before the write), and begin its flight.
    proxy.releaseSome(/row\|Post\|/)
    await write
    // (Its first request may be for versions rather than the row: an instance that has not heard its own beat for
    // a while, on a loaded machine, asks Redis for them.)
    proxy.sent = 0
    proxy.sends = /evalsha/i
    const second = writer.post.findUnique(byId).then((p) => p)
    await until(() => proxy.sent > 0, 'the second read asked Redis')
    proxy.release()
    expect((await second)?.title, 'read after its own write').toBe(await oracle())
    expect(['before', 'after']).toContain((await first)?.title) // ran alongside the write
  })
})
