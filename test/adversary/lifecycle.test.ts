// ADVERSARY (deterministic): hooks that throw or reject, and a client used after $cache.close(). No call may throw
// where Prisma would not, no unhandled rejection may escape (it would end the process), and a closed instance must
// not keep serving what another instance's writes made stale.
import { cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { client, diff, stage, warm } from './database.ts'

const provider = 'postgres' as const
const { cur, db, fresh } = stage(provider)

describe('adversary hooks and lifecycle: postgres / two-tier', () => {
  /** Every read, a write and an invalidation with `hooks` installed: the unhandled rejections they caused. */
  async function rejectionsWith(hooks: Record<string, unknown>) {
    const rejections: unknown[] = []
    const onRejection = (e: unknown) => rejections.push(e)
    process.on('unhandledRejection', onRejection)
    const p = client(provider, db().adapter()).$extends(cache({ redis: cur().redis, prefix: cur().prefix, ...hooks }))
    try {
      await warm(p)
      await p.member.update({ where: { id: 1 }, data: { score: { increment: 1 } } })
      await p.$cache.invalidate({ models: ['Member'] })
      expect(await diff(p, cur().raw)).toEqual([])
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      await p.$cache.close()
      await p.$disconnect()
      process.off('unhandledRejection', onRejection)
    }
    return rejections.map(String)
  }

  it('hooks that throw never reach the caller', async () => {
    await fresh()
    const boom = () => {
      throw new Error('hook threw')
    }
    expect(await rejectionsWith({ onHit: boom, onMiss: boom, onInvalidate: boom, onError: boom })).toEqual([])
  })

  // An async hook (`onMiss: async (e) => { await metrics.send(e) }`) whose promise rejects: Strata drops the
  // promise, so Node sees an unhandled rejection, which ends the process under Node's default settings.
  for (const name of ['onHit', 'onMiss', 'onInvalidate', 'onError']) {
    it(`an async ${name} hook that rejects causes no unhandled rejection`, async () => {
      await fresh()
      const reject = async () => {
        throw new Error(`${name} rejected`)
      }
      // onError only runs on a fault: garbage under one of our keys makes one.
      const hooks: Record<string, unknown> = { [name]: reject }
      if (name === 'onError') hooks.maxEntryBytes = 10
      expect(await rejectionsWith(hooks)).toEqual([])
    })
  }

  it("after $cache.close(), reads and writes still answer like Prisma, and another instance's writes are seen", async () => {
    const { prisma, raw } = await fresh()
    const other = await cur().instance()
    await warm(prisma)
    await prisma.$cache.close()
    await other.member.update({ where: { id: 1 }, data: { handle: 'after-close' } })
    await other.org.delete({ where: { code: 'init' } })
    const end = Date.now() + 2500
    let d = await diff(prisma, raw)
    while (d.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50))
      d = await diff(prisma, raw)
    }
    expect(d).toEqual([])
    await prisma.member.update({ where: { id: 2 }, data: { handle: 'closed-writer' } })
    expect(await diff(prisma, raw)).toEqual([])
  })

  it('two clients extended from one base client with cache() twice (two engines on one prefix)', async () => {
    const { raw, prefix, redis } = await fresh()
    const base = client(provider, db().adapter())
    const a = base.$extends(cache({ redis, prefix }))
    const b = base.$extends(cache({ redis, prefix }))
    const doubled = a.$extends(cache({ redis, prefix }))
    try {
      await warm(a)
      await warm(b)
      await warm(doubled)
      await b.member.update({ where: { id: 1 }, data: { handle: 'b' } })
      await doubled.org.update({ where: { code: 'init' }, data: { name: 'doubled' } })
      for (const p of [a, b, doubled]) {
        const end = Date.now() + 2500
        let d = await diff(p, raw)
        while (d.length && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 50))
          d = await diff(p, raw)
        }
        expect(d).toEqual([])
      }
    } finally {
      for (const p of [a, b, doubled]) await p.$cache.close()
      await base.$disconnect()
    }
  })
})
