// ADVERSARY (the bump script's registry version, learned by the writer; see registry-loss.test.ts). Before the fix:
// `sendBump` learned the registry version `g:Model` its script read through `Versions.keep(name, value, epoch)`, the
// path a read's versions take. `keep` silently learns nothing when the trust epoch moved while the script was on its
// way (`forget()` past MAX_KNOWN names, `heard` overflow, a bus value that is not a version, a bus flap), when any
// bump is owed, or when the name is dirty. For a read's versions that is safe (the caller still uses the returned
// value for that one read); here the returned value was discarded, so the writer kept believing its schemes are
// registered under the old registry version, and its next read peeks its memory (QueryEntry.snapshot: `peek`, no
// owed check, no Redis) and was served the entry filled before its own write: a read-your-writes violation. Now a
// registry version the writer cannot learn is forgotten, and its next read asks Redis (and registers again).
//
// The epoch is moved here by `forget()`: the writer knows ~50 000 names (MAX_KNOWN; learned from bus messages, as
// an instance with many tags/rows/predicates would) and a bus message heard while its bump script is on its way
// makes it forget the oldest tenth (not the Post names, learned later). The bump's reply is held by a proxy on the
// command connection so the bus message deterministically arrives while it is on its way.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, faultProxy } from '../support/fault-proxy.ts'
import { type CachedClient, type Setup, setupCase } from '../support/matrix.ts'
import { redisUrl } from '../support/services.ts'
import { registryRecreated, twoAuthors } from './registry-scene.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const quiet = { staleness: 600_000, heartbeat: 150_000 }

describe('adversary: the registry version a bump returns, when the trust epoch moved meanwhile', () => {
  let s: Setup
  let bus: FaultProxy
  let cmdProxy: FaultProxy
  let url: string
  let b: CachedClient
  let pub: Redis
  let tag = 0

  beforeAll(async () => {
    url = await redisUrl()
    bus = await faultProxy(Number(new URL(url).port))
    cmdProxy = await faultProxy(Number(new URL(url).port))
    const cmd = new Redis(cmdProxy.url, { maxRetriesPerRequest: 2 })
    ;(cmd as unknown as { duplicate: (o?: object) => Redis }).duplicate = (o = {}) =>
      new Redis(bus.url, { maxRetriesPerRequest: 2, ...o })
    s = await setupCase(
      { provider: (process.env.ADV_PROVIDER ?? 'sqlite') as 'sqlite', tiers: 'two-tier' },
      { redis: cmd as never, redisTimeout: 5000, ...quiet },
    )
    b = await s.instance({ redis: url, redisTimeout: 5000 })
    pub = new Redis(url)
  })
  afterEach(() => {
    bus.frozen = false
    cmdProxy.stalls = undefined
    cmdProxy.release()
  })
  afterAll(async () => {
    await s?.close()
    pub?.disconnect()
    await bus?.close()
    await cmdProxy?.close()
  })

  /** Another instance's bump of `n` new tag names, heard by the writer on its bus (learned: not predicates). */
  async function hearTags(n: number) {
    const version = 1_700_000_000_000_000
    for (let done = 0; done < n; done += 5000) {
      const parts = ['adv-other']
      for (let i = 0; i < Math.min(5000, n - done); i++) parts.push(`t:adv${++tag}`, String(version))
      await pub.publish(`${s.prefix}:bus`, parts.join(' '))
    }
    await sleep(300)
  }

  async function scene() {
    const { post, other, list, oracle } = await twoAuthors(s)
    // The writer fills the list (its scheme registered under the registry version it knows).
    expect((await s.prisma.post.findMany(list))[0]?.title).toBe('before')
    expect((await s.prisma.post.findMany(list))[0]?.title).toBe('before')
    // The registry is evicted; another instance's write recreates it (bumping g:Post); that bus message is lost
    // for the writer (as in registry-loss.test.ts), then its bus works again.
    await registryRecreated(s, b, other, bus)
    await sleep(100)
    bus.frozen = false
    return { post, list, oracle }
  }

  /** The writer's own write, its bump's reply held by the proxy while `during` runs. */
  async function write(post: { id: number }, during: () => Promise<void>) {
    cmdProxy.stalled = 0
    cmdProxy.stalls = /:v:\r\n/ // the bump script (its version-prefix argument)
    const w = s.prisma.post.update({ where: { id: post.id }, data: { title: 'after' } }).then((p) => p)
    for (let i = 0; i < 400 && cmdProxy.stalled === 0; i++) await sleep(5)
    expect(cmdProxy.stalled, 'the bump ran in Redis, its reply held').toBeGreaterThan(0)
    await during()
    cmdProxy.stalls = undefined
    cmdProxy.release()
    await w
  }

  it('control: the writer learns the recreated registry from its bump (no epoch move)', async () => {
    await hearTags(60_000) // ~45 000-50 000 names known, all older than the Post names learned below
    const { post, list, oracle } = await scene()
    await write(post, async () => {})
    expect(await oracle()).toBe('after')
    expect((await s.prisma.post.findMany(list))[0]?.title, 'read after its own write').toBe(await oracle())
  })

  it('forget() while the bump is on its way: the registry version is not learned, the next read is stale', async () => {
    await hearTags(60_000)
    const { post, list, oracle } = await scene()
    // While the bump's reply is on its way, the writer hears 5 001 new names: past MAX_KNOWN once, it forgets the
    // oldest tenth (tags heard first, not the Post names) and moves its trust epoch.
    await write(post, () => hearTags(5_001))
    expect(await oracle()).toBe('after')
    expect((await s.prisma.post.findMany(list))[0]?.title, 'read after its own write').toBe(await oracle())
  })
})
