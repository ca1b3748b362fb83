// ADVERSARY (single flight's same-versions join; the writer's knowledge of the scheme registry). Every answer is
// compared with the uncached client read after the write.
//
// Registry loss: the scheme registry `{prefix}:s:Post` is evicted; another instance's write recreates it (bumping
// `g:Post`, published on the bus). The writer has not heard that bus message yet (its bus connection goes through a
// proxy, frozen here: a bus message simply late relative to the command connection's replies). Before the fix, the
// writer still believed its scheme registered under the old registry version, so its reads took their snapshot from
// memory and never registered again; its own write's row request found a registry without the scheme, and bumped no
// predicate the list depends on. A read begun after that write then had exactly the versions of a flight begun before
// it (and, two-tier, the flight's fill was served after the write). Now the bump script returns the registry version
// it read, and the writer learns it before its write returns.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, faultProxy } from '../support/fault-proxy.ts'
import { holdNextSelect } from '../support/hold-statement.ts'
import { type CachedClient, type Setup, setupCase } from '../support/matrix.ts'
import { redisUrl } from '../support/services.ts'
import { registryRecreated, twoAuthors } from './registry-scene.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const quiet = { staleness: 600_000, heartbeat: 150_000 }

// `redis-only-leased`: no local tier, leases on. A fill is stored only if Redis still holds its versions
// (`allowsFill`): the fill made under the old registry version is refused, so no read after the write is answered from
// it; there the flight is the only way the old answer reaches a read begun after the write.
const configs = [
  { name: 'two-tier', options: {} },
  { name: 'redis-only-leased', options: { local: false, lease: true } },
] as const

describe.each(configs)('adversary: same-versions join after a registry loss ($name)', ({ options }) => {
  let s: Setup
  let proxy: FaultProxy
  let url: string
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let b: CachedClient

  beforeAll(async () => {
    url = await redisUrl()
    proxy = await faultProxy(Number(new URL(url).port))
    // Commands go straight to Redis; the bus connection (the client's duplicate) goes through the proxy.
    const cmd = new Redis(url, { maxRetriesPerRequest: 2 })
    ;(cmd as unknown as { duplicate: (o?: object) => Redis }).duplicate = (o = {}) =>
      new Redis(proxy.url, { maxRetriesPerRequest: 2, ...o })
    s = await setupCase(
      { provider: (process.env.ADV_PROVIDER ?? 'sqlite') as 'sqlite', tiers: 'two-tier' },
      { redis: cmd as never, ...quiet, ...options },
      { afterQuery: (sql) => hold?.(sql) },
    )
    b = await s.instance({ redis: url, redisTimeout: 5000 })
  })
  afterEach(() => {
    hold = undefined
    proxy.frozen = false
  })
  afterAll(async () => {
    await s?.close()
    await proxy?.close()
  })

  async function scene() {
    const { post, other, list, oracle } = await twoAuthors(s)
    // The writer learns the list's versions and registers its scheme through a read of the same predicate under
    // another text (so it has no entry of the list itself).
    expect((await s.prisma.post.findMany({ ...list, select: { id: true, title: true } }))[0]?.title).toBe('before')
    expect((await s.prisma.post.findMany({ ...list, select: { id: true, title: true } }))[0]?.title).toBe('before')
    // The registry is evicted; another instance's write recreates it (and bumps g:Post); the writer's bus is late.
    await registryRecreated(s, b, other, proxy)
    return { post, list, oracle }
  }

  /**
   * F: the list, its SQL answered before the write and held between its result and Prisma; W: the writer's own
   * write, returned. `release()` lets F go on; `first` is its answer.
   */
  async function heldReadThenWrite() {
    const { post, list, oracle } = await scene()
    const held = holdNextSelect('Post')
    hold = held.hook
    const first = s.prisma.post.findMany(list).then((p) => p)
    await held.held
    await s.prisma.post.update({ where: { id: post.id }, data: { title: 'after' } })
    return { list, oracle, first, release: held.release }
  }

  it('a read begun after its own write joins a flight whose query ran before the write (same versions)', async () => {
    const { list, oracle, first, release } = await heldReadThenWrite()
    const want = await oracle()
    expect(want).toBe('after')
    // R: begun after W returned, while F is held (given a moment to reach the flight it would join).
    const second = s.prisma.post.findMany(list).then((p) => p)
    await sleep(50)
    release()
    expect(['before', 'after']).toContain((await first)[0]?.title)
    expect((await second)[0]?.title, 'read begun after its own write').toBe(want)
  })

  it('a read after its own write, once that flight has filled (no flight involved)', async () => {
    const { list, oracle, first, release } = await heldReadThenWrite()
    release()
    await first
    await sleep(50)
    expect((await s.prisma.post.findMany(list))[0]?.title, 'read begun after its own write').toBe(await oracle())
  })
})
