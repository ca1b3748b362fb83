// A write whose bump times out (owed, retried until it lands) leaves reads after it without versions: they may
// share any flight under way that no write stamped out. A flight begun while the bump was on its way can hold
// versions from before the write (a row request does not make the writer forget the predicates it bumps; a
// version reply Redis made before the bump can be learned meanwhile) and answer from an entry of before the write.
// So a write stamps the flights again once its bump is done. Found by an adversarial review; every answer is
// compared with an uncached client.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, faultProxy } from './support/fault-proxy.ts'
import { type Setup, setupCase } from './support/matrix.ts'
import { RunningTime } from './support/running-time.ts'
import { redisUrl } from './support/services.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// The instance whose replies are held trusts what it knows for the whole test: with the default staleness bound, an
// instance on a loaded machine that has not heard its own beat for half a second asks Redis for versions instead,
// another path than the one each test sets up.
const quiet = { staleness: 600_000 }

describe('a flight begun during a bump that is then owed', () => {
  let s: Setup
  let proxy: FaultProxy
  const clock = new RunningTime()
  let seq = 0

  beforeAll(async () => {
    s = await setupCase({ provider: (process.env.FLIGHTS_PROVIDER ?? 'sqlite') as 'sqlite', tiers: 'two-tier' })
    proxy = await faultProxy(Number(new URL(await redisUrl()).port))
  })
  afterEach(() => {
    proxy.sends = undefined
    proxy.holds = undefined
    proxy.watch = undefined
    proxy.release()
  })
  afterAll(async () => {
    clock.stop()
    await s?.close()
    await proxy?.close()
  })

  async function until(done: () => boolean, what: string) {
    const deadline = clock.now() + 10_000
    while (!done() && clock.now() < deadline) await sleep(5)
    expect(done(), what).toBe(true)
  }

  async function authorWithPost() {
    const author = await s.raw.user.create({ data: { email: `fo${++seq}@x` } })
    const post = await s.raw.post.create({ data: { title: 'before', authorId: author.id } })
    const list = { where: { authorId: author.id } }
    const oracle = async () => (await s.raw.post.findMany(list))[0]?.title
    return { author, post, list, oracle }
  }

  for (const local of [false, true] as const) {
    it(`precise: a flight begun during the bump holds the predicate versions from before it; a read after the write does not share it (local: ${local})`, async () => {
      const { author, post, list, oracle } = await authorWithPost()
      // Another instance fills the list's entry in Redis (before the write), and loads the bump script.
      const entries = async () => (await s.redis?.keys(`${s.prefix}:e:Post:*`))?.length ?? 0
      const before = await entries()
      // (B may distrust Post's predicate epoch for a while after an earlier test's owed bump: read until it fills.)
      const filled = clock.now() + 10_000
      while ((await entries()) === before && clock.now() < filled) {
        expect((await s.prisma.post.findMany(list))[0]?.title).toBe('before')
        await sleep(20)
      }
      expect(await entries(), 'the fill reached Redis').toBe(before + 1)
      await s.prisma.user.update({ where: { id: author.id }, data: { email: author.email } })

      const budget = 3000
      const a = await s.instance({
        redis: proxy.url,
        redisTimeout: budget,
        ...quiet,
        ...(local ? {} : { local: false }),
      })
      // A learns the list's versions (and registers its scheme) through a read of the same predicate with another
      // text, so that it has no local entry of the list itself.
      expect((await a.post.findMany({ ...list, select: { id: true, title: true } }))[0]?.title).toBe('before')
      expect((await a.post.findMany({ ...list, select: { id: true, title: true } }))[0]?.title).toBe('before')

      // A's write: its bump runs in Redis, the reply is kept (it will time out: owed).
      proxy.stalled = 0
      proxy.stalls = /:v:\r\n/ // the bump script (its version-prefix argument)
      const write = a.post.update({ where: { id: post.id }, data: { title: 'after' } }).then((p) => p)
      await until(() => proxy.stalled > 0, 'the bump ran in Redis, its reply kept')
      // Half the budget on: the read below gives up on Redis that much after the bump does (it is answered first).
      await sleep(budget / 2)
      // A read begun while the bump is on its way: its snapshot is A's memory (the predicate versions from before
      // the write); its lookup GET reaches Redis (reply kept).
      const stalled = proxy.stalled
      const first = a.post.findMany(list).then((p) => p)
      await until(() => proxy.stalled > stalled, "the first read's GET answered, reply kept")
      await write // the bump timed out: owed
      // Begun after the write returned: A owes a bump, so Redis gives no versions; the first read's flight is
      // under way, and dated after the write's stamp.
      const second = a.post.findMany(list).then((p) => p)
      await sleep(50)
      proxy.release()
      // The first read ran alongside the write, and answered from the entry filled before it.
      expect((await first)[0]?.title, "the first read's flight answered from before the write").toBe('before')
      expect((await second)[0]?.title, 'read begun after its own write').toBe(await oracle())
    })
  }

  it('model: a flight begun during the bump holds a version re-learned from a reply Redis made before it; a read after the write does not share it', async () => {
    const author = await s.raw.user.create({ data: { email: `fm${++seq}@x` } })
    const post = await s.raw.post.create({ data: { title: 'before', authorId: author.id } })
    const list = { where: { authorId: author.id } }
    const oracle = async () => (await s.raw.post.findMany(list))[0]?.title
    const model = { invalidation: 'model' } as const
    // Another model-invalidation instance fills the list's entry in Redis.
    const b = await s.instance(model)
    const entries = async () => (await s.redis?.keys(`${s.prefix}:e:Post:*`))?.length ?? 0
    const before = await entries()
    const filled = clock.now() + 10_000
    while ((await entries()) === before && clock.now() < filled) {
      expect((await b.post.findMany(list))[0]?.title).toBe('before')
      await sleep(20)
    }
    expect(await entries(), 'the fill reached Redis').toBe(before + 1)
    await b.user.update({ where: { id: author.id }, data: { email: author.email } }) // bump script loaded

    const budget = 3000
    const a = await s.instance({ ...model, redis: proxy.url, redisTimeout: budget, ...quiet, local: false })
    expect((await a.post.findMany(list))[0]?.title).toBe('before') // A knows m:Post (a Redis hit)

    // X: a read that needs Redis (m:User unknown to A) and names m:Post; Redis answers it, the reply is kept.
    proxy.stalled = 0
    proxy.stalls = /evalsha/i
    const x = a.user.findMany({ where: { id: author.id }, include: { posts: true } }).then((u) => u)
    await until(() => proxy.stalled > 0, "X's versions read, reply kept")
    // W: A's write; its bump runs in Redis after X's read (reply kept behind X's).
    const write = a.post.update({ where: { id: post.id }, data: { title: 'after' } }).then((p) => p)
    await until(() => proxy.stalled > 1, 'the bump ran in Redis, its reply kept')
    await sleep(budget / 2) // F below gives up on Redis that much after the bump does
    // X's reply arrives: A learns m:Post as it was before W (W's bump had made A forget it).
    proxy.releaseSome()
    await x
    // F: begun during the bump, its snapshot is A's memory (before W); its GET is answered after W's bump, kept.
    const stalled = proxy.stalled
    const first = a.post.findMany(list).then((p) => p)
    await until(() => proxy.stalled > stalled, "F's GET answered, reply kept")
    await write // the bump timed out: owed
    const second = a.post.findMany(list).then((p) => p)
    await sleep(50)
    proxy.release()
    expect((await first)[0]?.title, "the first read's flight answered from before the write").toBe('before')
    expect((await second)[0]?.title, 'read begun after its own write').toBe(await oracle())
  })

  it("write-through row: a read begun during the bump reads the row's version from Redis; a read after the write gets the new row", async () => {
    const { author, post } = await authorWithPost()
    const byId = { where: { id: post.id } }
    const oracle = async () => (await s.raw.post.findUnique(byId))?.title
    const wt = { models: { Post: { strategy: 'write-through' } } } as const
    const b = await s.instance(wt)
    expect((await b.post.findUnique(byId))?.title).toBe('before')
    await sleep(100) // its fill lands
    await b.user.update({ where: { id: author.id }, data: { email: author.email } })
    const budget = 3000
    const a = await s.instance({ ...wt, redis: proxy.url, redisTimeout: budget, ...quiet, local: false })
    expect((await a.post.findUnique(byId))?.title).toBe('before')
    proxy.stalled = 0
    proxy.stalls = /:v:\r\n/
    const write = a.post.update({ where: { id: post.id }, data: { title: 'after' } }).then((p) => p)
    await until(() => proxy.stalled > 0, 'the bump ran in Redis, its reply kept')
    await sleep(budget / 2)
    const first = a.post.findUnique(byId).then((p) => p)
    await sleep(100)
    await write
    const second = a.post.findUnique(byId).then((p) => p)
    await sleep(50)
    proxy.release()
    expect(['before', 'after']).toContain((await first)?.title)
    expect((await second)?.title, 'read begun after its own write').toBe(await oracle())
  })
})
