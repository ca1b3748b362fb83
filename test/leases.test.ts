// Leases (issue: many instances): a fill that a write overtook is refused, and a holder that died blocks
// nobody for longer than the wait, nor anyone past the lease timeout.
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { countingAdapter } from './support/counting-adapter.ts'
import { holdNextSelect } from './support/hold-statement.ts'
import { type CachedClient, newClient, newDatabase, type RawClient } from './support/matrix.ts'
import { RunningTime } from './support/running-time.ts'
import { redisUrl } from './support/services.ts'

describe('leases', () => {
  let db: TestDatabase
  let raw: RawClient
  let url: string
  let admin: Redis
  const clients: CachedClient[] = []
  let hold: ((sql: string) => Promise<void> | undefined) | undefined

  const instance = async (prefix: string, lease = { timeout: 1000, wait: 300 }) => {
    const counting = countingAdapter(db.adapter() as never, { afterQuery: (sql) => hold?.(sql) })
    // Not a test of Redis timeouts: on a loaded machine the default 200 ms can run out before the lease's SET NX, and
    // a read without a lease fills as any read does (its entry stale by versions, never served), which is not the
    // path under test.
    const client = newClient('sqlite', counting.adapter).$extends(
      cache({ redis: url, prefix, lease, redisTimeout: 5000 }),
    )
    clients.push(client)
    await client.$cache.whenReady()
    return { client, counting }
  }

  beforeAll(async () => {
    url = await redisUrl()
    admin = new Redis(url)
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
    await raw.post.create({ data: { title: 'leased', views: 1 } })
  })
  afterAll(async () => {
    for (const c of clients) {
      await c.$cache.close()
      await c.$disconnect()
    }
    admin?.disconnect()
    await raw?.$disconnect()
    await db?.drop()
  })

  it('refuses a fill that a write overtook: the old row never reaches Redis', async () => {
    const prefix = `lease-overtaken-${Date.now()}`
    const holder = await instance(prefix)
    const writer = await instance(prefix)
    const held = holdNextSelect('Post')
    hold = held.hook
    const read = holder.client.post.findFirst({ where: { title: 'leased' } }).then((p) => p)
    await held.held // the holder has the lease and the old row, and has not filled yet
    await writer.client.post.updateMany({ where: { title: 'leased' }, data: { views: 2 } })
    held.release()
    expect((await read)?.views).toBe(1) // its own answer: it started before the write
    await holder.client.$cache.close() // let the (refused) fill finish
    expect(await admin.keys(`${prefix}:e:*`)).toEqual([])
    const third = await instance(prefix)
    expect((await third.client.post.findFirst({ where: { title: 'leased' } }))?.views).toBe(2)
  })

  it('a holder that hangs delays others by at most the wait, and nobody past the lease timeout', async () => {
    const prefix = `lease-dead-${Date.now()}`
    const args = { where: { title: 'leased' }, select: { id: true, views: true } }
    const stuck = await instance(prefix, { timeout: 1000, wait: 300 })
    const other = await instance(prefix, { timeout: 1000, wait: 300 })
    const held = holdNextSelect('Post')
    hold = held.hook
    const hung = stuck.client.post.findFirst(args).then((p) => p) // takes the lease, then never returns
    await held.held
    try {
      expect(await admin.keys(`{${prefix}}:l:*`)).toHaveLength(1)
      other.counting.reset()
      // At least the wait on wall time (load only lengthens it); at most, in time this process could run
      // (test/support/running-time.ts), less than the holder's lease.
      const clock = new RunningTime()
      const started = performance.now()
      let answer: { views: number } | null | undefined
      const running = await clock
        .measure(async () => {
          answer = await other.client.post.findFirst(args)
        })
        .finally(() => clock.stop())
      const waited = performance.now() - started
      expect(answer?.views).toBe((await raw.post.findFirst(args))?.views)
      expect(other.counting.count()).toBe(1) // it stopped waiting and asked the database
      expect(other.client.$cache.stats().leaseWaitsOut).toBe(1) // and says so
      // It waited for the fill (the 300 ms wait), but not for the hung holder's lease to time out (1000 ms).
      expect(waited).toBeGreaterThanOrEqual(250)
      expect(running).toBeLessThan(1000)

      await new Promise((r) => setTimeout(r, 1000))
      expect(await admin.keys(`{${prefix}}:l:*`)).toEqual([]) // the lease timed out: nobody waits on it any more
    } finally {
      held.release()
      await hung
    }
  })
})
