// ADVERSARY (deterministic): transactions that fail in every way, options that serve old entries (grace, swr,
// lease), instances with other local policies writing on one prefix, and what a caller can pass to $cache.
import { cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { countingAdapter } from '../support/counting-adapter.ts'
import { client, converges, diff, sleep, stage, warm } from './database.ts'

const provider = 'postgres' as const
const { cur, db, fresh } = stage(provider)

describe('adversary transactions and options: postgres / two-tier', () => {
  it('an interactive transaction that times out after its writes', async () => {
    const { prisma, raw } = await fresh()
    await warm(prisma)
    const error = await prisma
      .$transaction(
        async (tx) => {
          await tx.org.update({ where: { code: 'acme' }, data: { code: 'late' } })
          await sleep(300)
          await tx.member.deleteMany()
        },
        { timeout: 100 },
      )
      .then(
        () => undefined,
        (e: Error) => e.constructor.name,
      )
    expect(error).toBeDefined()
    expect(await diff(prisma, raw)).toEqual([])
  })

  it('a batch transaction whose last item fails rolls back every item', async () => {
    const { prisma, raw } = await fresh()
    await warm(prisma)
    await prisma
      .$transaction([
        prisma.member.update({ where: { id: 1 }, data: { handle: 'b1' } }),
        prisma.org.delete({ where: { code: 'init' } }),
        prisma.member.update({ where: { id: 2 }, data: { handle: 'ann' } }), // unique violation
      ])
      .catch(() => {})
    expect(await diff(prisma, raw)).toEqual([])
  })

  it("a batch transaction mixing reads and raw writes: reads are Prisma's, later reads see the writes", async () => {
    const { prisma, raw } = await fresh()
    await warm(prisma)
    const [before, , after] = await prisma.$transaction([
      prisma.member.findMany({ orderBy: { id: 'asc' } }),
      prisma.$executeRawUnsafe(`UPDATE members SET handle = handle || '!'`),
      prisma.member.findMany({ orderBy: { id: 'asc' } }),
    ])
    expect((after as Array<{ handle: string }>)[0]?.handle).toEqual('ann!')
    expect((before as Array<{ handle: string }>)[0]?.handle).toEqual('ann')
    expect(await diff(prisma, raw)).toEqual([])
  })

  it('reads of the base client during an interactive transaction, then a rollback by throwing after a raw write', async () => {
    const { prisma, raw } = await fresh()
    await warm(prisma)
    await prisma
      .$transaction(async (tx) => {
        await tx.$executeRawUnsafe('DELETE FROM tasks')
        await warm(prisma) // outside the transaction: old rows, cached
        await tx.member.update({ where: { id: 1 }, data: { score: 9 } })
        await warm(tx) // inside: never cached
        throw new Error('roll back')
      })
      .catch(() => {})
    expect(await diff(prisma, raw)).toEqual([])
  })

  it('reads of the base client during an interactive transaction that commits', async () => {
    const { prisma, raw } = await fresh()
    await warm(prisma)
    await prisma.$transaction(async (tx) => {
      await tx.team.update({ where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } }, data: { slug: 'c2' } })
      await warm(prisma)
    })
    expect(await diff(prisma, raw)).toEqual([])
  })

  it('$transaction taken off the client, and an interactive transaction of a client extended above cache()', async () => {
    const { prisma, raw } = await fresh()
    await warm(prisma)
    const above = prisma.$extends({
      query: {
        member: {
          async update({ args, query }) {
            return query(args)
          },
        },
      },
    })
    const tx = above.$transaction.bind(above)
    await tx(async (t) => {
      await t.member.update({ where: { id: 2 }, data: { mentor: { disconnect: true } } })
    })
    await warm(above)
    expect(await diff(prisma, raw)).toEqual([])
    expect(await diff(above, raw)).toEqual([])
  })

  it('grace never answers with an entry a write made stale when the database then fails', async () => {
    await fresh()
    let failing = false
    const counting = countingAdapter(db().adapter() as never, {
      beforeQuery: () => {
        if (failing) throw new Error('database down')
      },
    })
    const p = client(provider, counting.adapter).$extends(
      cache({ redis: cur().redis, prefix: cur().prefix, grace: 60, ttl: 1, onError: () => {} }),
    )
    try {
      await p.member.findMany({ orderBy: { id: 'asc' } })
      await p.member.update({ where: { id: 1 }, data: { handle: 'graced' } })
      failing = true
      const got = await p.member.findMany({ orderBy: { id: 'asc' } }).then(
        (rows) => rows.map((m) => m.handle),
        () => 'throws',
      )
      expect(got === 'throws' || (Array.isArray(got) && got[0] === 'graced')).toBe(true)
    } finally {
      await p.$cache.close()
      await p.$disconnect()
    }
  })

  it('swr and lease: an entry a write made stale is never served, on either instance', async () => {
    const { prisma, raw } = await fresh({ swr: 30, lease: true, ttl: 1 })
    const other = await cur().instance()
    await warm(prisma)
    await warm(other)
    await sleep(1100) // time-expired: swr may serve these
    await other.member.update({ where: { id: 1 }, data: { handle: 'swr' } })
    expect(await diff(other, raw)).toEqual([])
    await converges(
      async () => diff(prisma, raw),
      async () => [],
    )
  })

  it('a writer with every model off (models: false) and no local tier still invalidates the readers', async () => {
    const { prisma, raw } = await fresh()
    const off = Object.fromEntries(
      ['Org', 'Team', 'Member', 'Badge', 'Project', 'Task', 'Skill', 'MemberSkill'].map((m) => [m, false]),
    )
    const writer = await cur().instance({ models: off as never, local: false })
    await warm(prisma)
    await writer.org.update({ where: { code: 'acme' }, data: { code: 'moved' } })
    await writer.$executeRawUnsafe('DELETE FROM tasks WHERE id = 3')
    await converges(
      async () => diff(prisma, raw),
      async () => [],
    )
  })

  it('$cache.invalidate with a table name or a lower-case model name says what to fix (no silent no-op)', async () => {
    const { prisma } = await fresh()
    for (const models of [['members'], ['member'], ['Nope']]) {
      await expect(prisma.$cache.invalidate({ models })).rejects.toThrow(/unknown model/)
    }
    await expect(async () => prisma.$cache.wrap('k', async () => 1, { dependsOn: ['members'] })).rejects.toThrow(
      /not a model/,
    )
  })
})
