// The bus has a connection of its own, so a write's bus message can reach an instance before the reply of a version
// read that Redis answered just before that write's bump. The version in that reply is already old: kept, it would
// answer hit checks until the next bump of the name, and an entry filled before the write would be served long
// after the write returned. Made deterministic with a proxy that keeps one instance's replies while its bus
// connection goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, faultProxy } from './support/fault-proxy.ts'
import { type Setup, setupCase } from './support/matrix.ts'
import { RunningTime } from './support/running-time.ts'
import { redisUrl } from './support/services.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('a bump heard on the bus before the reply of a read that asked for the version', () => {
  let s: Setup
  let proxy: FaultProxy
  const clock = new RunningTime()

  beforeAll(async () => {
    s = await setupCase({ provider: 'sqlite', tiers: 'two-tier' })
    proxy = await faultProxy(Number(new URL(await redisUrl()).port))
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

  it('is not undone by that reply: no read after the bump gets the entry filled before it', async () => {
    const author = await s.raw.user.create({ data: { email: 'order@x' } })
    const post = await s.raw.post.create({ data: { title: 'before', authorId: author.id } })
    const list = { where: { authorId: author.id } }

    // An entry of the author's posts in Redis, filled before the write.
    expect((await s.prisma.post.findMany(list))[0]?.title).toBe('before')
    const entries = async () => (await s.redis?.keys(`${s.prefix}:e:Post:*`))?.length ?? 0
    for (let i = 0; i < 200 && (await entries()) === 0; i++) await sleep(10)
    expect(await entries(), 'the fill reached Redis').toBe(1)

    // An instance that never read the author's posts, its commands through the proxy. Its first read of them asks
    // Redis for their versions (and the entry) in one script call; Redis answers, and the proxy keeps the reply.
    // Its Redis budget is generous: the reply is held on purpose, and must not time out meanwhile.
    const late = await s.instance({ redis: proxy.url, redisTimeout: 60_000 })
    proxy.stalls = /evalsha/i
    const first = late.post.findMany(list).then((posts) => posts) // Prisma's promise runs once awaited
    await until(() => proxy.stalled > 0, 'the version read was answered by Redis and its reply kept')

    // Meanwhile a write through another instance commits and bumps; its bus message reaches the late instance
    // (its bus connection is not held) before the reply does.
    proxy.watch = / p:Post:/ // a predicate of Post in a bus message (heartbeats name none)
    await s.prisma.post.update({ where: { id: post.id }, data: { title: 'after' } })
    await until(() => proxy.watched > 0, 'the bump reached the late instance on the bus')
    await sleep(20) // the message is in the late instance's socket: a turn of the event loop takes it in
    proxy.release()

    // The first read ran alongside the write: either answer is its own. Every read after it is after the write.
    expect(['before', 'after']).toContain((await first)[0]?.title)
    for (let i = 0; i < 3; i++) expect((await late.post.findMany(list))[0]?.title).toBe('after')
  })
})
