// ADVERSARY (deterministic): several instances on one prefix with different policies (write-through and
// invalidate), extensions below and above cache(), context partitions, wrap/tags/views. The writer's own reads
// must equal the oracle at once; another instance's within the staleness bound (polled, then asserted).
import { AsyncLocalStorage } from 'node:async_hooks'
import { cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { type Cached, client, converges, type Raw, show, stage } from './database.ts'

const provider = 'postgres' as const
const { cur, db, fresh } = stage(provider)

describe('adversary instances and policies: postgres / two-tier', () => {
  const wt = {
    models: {
      Member: { strategy: 'write-through' as const },
      Badge: { strategy: 'write-through' as const },
      Team: { strategy: 'write-through' as const },
      MemberSkill: { strategy: 'write-through' as const },
    },
  }

  it('write-through PK=FK row moved by connect: the old key reads null, the new key the row', async () => {
    const { prisma, raw } = await fresh(wt)
    const other = await cur().instance({})
    for (const id of [1, 3]) {
      await prisma.badge.findUnique({ where: { memberId: id } })
      await other.badge.findUnique({ where: { memberId: id } })
    }
    await prisma.badge.update({ where: { memberId: 1 }, data: { member: { connect: { id: 3 } } } })
    for (const id of [1, 3]) {
      expect(show(await prisma.badge.findUnique({ where: { memberId: id } }))).toEqual(
        show(await raw.badge.findUnique({ where: { memberId: id } })),
      )
      await converges(
        () => other.badge.findUnique({ where: { memberId: id } }),
        () => raw.badge.findUnique({ where: { memberId: id } }),
      )
    }
  })

  it('write-through compound ids changed by an onUpdate Cascade from the parent (org renamed)', async () => {
    const { prisma, raw } = await fresh(wt)
    const other = await cur().instance({})
    const reads = (p: Raw) => [
      () => p.team.findUnique({ where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } } }),
      () => p.team.findUnique({ where: { orgCode_slug: { orgCode: 'zz', slug: 'core' } } }),
      () => p.member.findUnique({ where: { id: 1 } }),
      () => p.member.findUnique({ where: { handle: 'ann' } }),
      () => p.memberSkill.findUnique({ where: { memberId_skillName: { memberId: 1, skillName: 'ts' } } }),
    ]
    for (const r of [...reads(prisma as unknown as Raw), ...reads(other as unknown as Raw)]) await r()
    await prisma.org.update({ where: { code: 'acme' }, data: { code: 'zz' } })
    await prisma.skill.update({ where: { name: 'ts' }, data: { name: 'tsx' } })
    const mine = reads(prisma as unknown as Raw)
    const theirs = reads(other as unknown as Raw)
    const oracle = reads(raw)
    for (let i = 0; i < oracle.length; i++) {
      expect(show(await mine[i]?.()), `writer read ${i}`).toEqual(show(await oracle[i]?.()))
      await converges(theirs[i] as () => Promise<unknown>, oracle[i] as () => Promise<unknown>)
    }
  })

  it('write-through unique alias: two members swap handles in a transaction, reads by handle', async () => {
    const { prisma, raw } = await fresh(wt)
    const other = await cur().instance(wt)
    for (const p of [prisma, other]) for (const h of ['ann', 'bob']) await p.member.findUnique({ where: { handle: h } })
    await prisma.$transaction([
      prisma.member.update({ where: { id: 1 }, data: { handle: 'tmp' } }),
      prisma.member.update({ where: { id: 2 }, data: { handle: 'ann' } }),
      prisma.member.update({ where: { id: 1 }, data: { handle: 'bob' } }),
    ])
    for (const h of ['ann', 'bob', 'tmp']) {
      expect(show(await prisma.member.findUnique({ where: { handle: h } }))).toEqual(
        show(await raw.member.findUnique({ where: { handle: h } })),
      )
      await converges(
        () => other.member.findUnique({ where: { handle: h } }),
        () => raw.member.findUnique({ where: { handle: h } }),
      )
    }
  })

  it('write-through writer and invalidate writer on one prefix, each reads the other', async () => {
    const { prisma: inv, raw } = await fresh({})
    const thr = await cur().instance(wt)
    const read = (p: Cached) => p.member.findUnique({ where: { id: 2 }, select: { handle: true, score: true } })
    await read(inv)
    await read(thr)
    await thr.member.update({ where: { id: 2 }, data: { score: 5 } })
    await converges(
      () => read(inv),
      () => raw.member.findUnique({ where: { id: 2 }, select: { handle: true, score: true } }),
    )
    await inv.member.update({ where: { id: 2 }, data: { score: 6 } })
    await converges(
      () => read(thr),
      () => raw.member.findUnique({ where: { id: 2 }, select: { handle: true, score: true } }),
    )
    await inv.member.updateMany({ where: { orgCode: 'acme' }, data: { score: 7 } })
    await converges(
      () => read(thr),
      () => raw.member.findUnique({ where: { id: 2 }, select: { handle: true, score: true } }),
    )
    await inv.$executeRawUnsafe('UPDATE members SET score = 8')
    await converges(
      () => read(thr),
      () => raw.member.findUnique({ where: { id: 2 }, select: { handle: true, score: true } }),
    )
  })

  it('write-through point read under a global omit, on a prefix shared with a non-omitting client', async () => {
    const { raw } = await fresh(wt)
    const omit = { member: { karma: true, score: true } }
    const omitting = client(provider, db().adapter(), { omit }).$extends(
      cache({ redis: cur().redis, prefix: cur().prefix, ...wt }),
    )
    const oracle = client(provider, db().adapter(), { omit })
    try {
      const plain = await cur().instance(wt)
      await plain.member.findUnique({ where: { id: 1 } })
      expect(show(await omitting.member.findUnique({ where: { id: 1 } }))).toEqual(
        show(await oracle.member.findUnique({ where: { id: 1 } })),
      )
      expect(show(await omitting.member.findUnique({ where: { id: 1 }, omit: { karma: false } }))).toEqual(
        show(await oracle.member.findUnique({ where: { id: 1 }, omit: { karma: false } })),
      )
      expect(show(await plain.member.findUnique({ where: { id: 1 } }))).toEqual(
        show(await raw.member.findUnique({ where: { id: 1 } })),
      )
    } finally {
      await omitting.$cache.close()
      await omitting.$disconnect()
      await oracle.$disconnect()
    }
  })

  it('a query hook below cache() adds a tenant filter from AsyncLocalStorage; context partitions by tenant', async () => {
    await fresh({})
    const als = new AsyncLocalStorage<string | number>()
    const tenantFilter = (c: Raw) =>
      c.$extends({
        query: {
          member: {
            async findMany({ args, query }) {
              const t = als.getStore()
              return query({
                ...args,
                where: { ...args.where, orgCode: t === 1 || t === '1' ? (t === 1 ? 'acme' : 'init') : String(t) },
              })
            },
          },
        },
      })
    const cached = (tenantFilter(client(provider, db().adapter())) as unknown as Raw).$extends(
      cache({ redis: cur().redis, prefix: cur().prefix, context: () => als.getStore() }),
    )
    const oracle = tenantFilter(client(provider, db().adapter()))
    try {
      for (const t of ['acme', 'init', 1, '1', 'acme'] as const) {
        const got = await als.run(t, () => cached.member.findMany({ orderBy: { id: 'asc' } }))
        const want = await als.run(t, () => oracle.member.findMany({ orderBy: { id: 'asc' } }))
        expect(show(got), `tenant ${t}`).toEqual(show(want))
      }
    } finally {
      await cached.$cache.close()
      await cached.$disconnect()
      await oracle.$disconnect()
    }
  })

  it('a query hook above cache() rewrites args; a result field returning a function; a computed field shadowing a column', async () => {
    await fresh({})
    const build = (c: Raw, withCache: boolean) => {
      const below = c.$extends({
        result: {
          member: {
            handle: { needs: { handle: true }, compute: (m) => m.handle.toUpperCase() },
            greet: { needs: { handle: true }, compute: (m) => () => `hi ${m.handle}` },
          },
        },
      })
      const mid = withCache
        ? (below as unknown as Raw).$extends(cache({ redis: cur().redis, prefix: cur().prefix }))
        : below
      return (mid as unknown as Raw).$extends({
        query: {
          member: {
            async findMany({ args, query }) {
              return query({ ...args, where: { ...args.where, score: { gte: 0 } }, take: 2 })
            },
          },
        },
      })
    }
    const cached = build(client(provider, db().adapter()), true)
    const oracle = build(client(provider, db().adapter()), false)
    try {
      for (let i = 0; i < 2; i++) {
        const got = await cached.member.findMany({ orderBy: { id: 'asc' } })
        const want = await oracle.member.findMany({ orderBy: { id: 'asc' } })
        expect(show(got)).toEqual(show(want))
        expect((got[0] as unknown as { greet(): string }).greet()).toEqual(
          (want[0] as unknown as { greet(): string }).greet(),
        )
        await cached.member.update({ where: { id: 1 }, data: { handle: `h${i}` } })
      }
    } finally {
      await (cached as unknown as Cached).$cache?.close()
      await cached.$disconnect()
      await oracle.$disconnect()
    }
  })

  it('$cache.wrap with dependsOn and tags, invalidated by writes and by tag', async () => {
    const { prisma, raw } = await fresh({})
    const other = await cur().instance({})
    const compute = (p: Raw) => () => p.member.count({ where: { orgCode: 'acme' } })
    const wrap = (c: Cached) => c.$cache.wrap('acme-count', compute(raw), { dependsOn: ['Member'], tags: ['t'] })
    expect(await wrap(prisma)).toEqual(await compute(raw)())
    expect(await wrap(other)).toEqual(await compute(raw)())
    await prisma.member.create({ data: { handle: 'w1', orgCode: 'acme' } })
    expect(await wrap(prisma)).toEqual(await compute(raw)())
    await converges(() => wrap(other), compute(raw))
    // a write through raw SQL on the mapped table, then an explicit tag invalidation from the other instance
    await raw.member.create({ data: { handle: 'w2', orgCode: 'acme' } })
    await other.$cache.invalidate({ tags: ['t'] })
    expect(await wrap(other)).toEqual(await compute(raw)())
    await converges(() => wrap(prisma), compute(raw))
  })

  it('a view with dependsOn sees writes to its base table from another instance', async () => {
    const { raw } = await fresh({ models: { TeamSize: { dependsOn: ['Member'] } } })
    const a = cur().prisma
    const b = await cur().instance({})
    await a.teamSize.findMany({ orderBy: { orgCode: 'asc' } })
    await a.teamSize.findMany({ orderBy: { orgCode: 'asc' } })
    await b.member.create({ data: { handle: 'vv', orgCode: 'init' } })
    await converges(
      () => a.teamSize.findMany({ orderBy: { orgCode: 'asc' } }),
      () => raw.teamSize.findMany({ orderBy: { orgCode: 'asc' } }),
    )
    await b.member.deleteMany({ where: { orgCode: 'acme' } })
    await converges(
      () => a.teamSize.findMany({ orderBy: { orgCode: 'asc' } }),
      () => raw.teamSize.findMany({ orderBy: { orgCode: 'asc' } }),
    )
  })

  it('cache: { key } shared by two instances with different where: each invalidated by writes', async () => {
    const { prisma, raw } = await fresh({})
    const other = await cur().instance({})
    const q = (p: Raw | Cached) =>
      (p as Raw).member.findMany({
        where: { orgCode: 'acme' },
        orderBy: { id: 'asc' },
        ...(p === raw ? {} : { cache: { key: 'acme' } }),
      } as never)
    await q(prisma)
    await q(other)
    await other.member.update({ where: { id: 1 }, data: { score: 3 } })
    expect(show(await q(other))).toEqual(show(await q(raw)))
    await converges(
      () => q(prisma),
      () => q(raw),
    )
  })

  // A rolling deploy that adds a soft-delete filter below cache(): old and new instances share the prefix. Each
  // must answer as its own client stack does.
  it('an instance with a filtering query hook below cache() and one without, on one prefix', async () => {
    await fresh({})
    const filtered = (c: Raw) =>
      c.$extends({
        query: {
          member: {
            async findMany({ args, query }) {
              return query({ ...args, where: { ...args.where, score: { gt: 1 } } })
            },
          },
        },
      })
    const withHook = (filtered(client(provider, db().adapter())) as unknown as Raw).$extends(
      cache({ redis: cur().redis, prefix: cur().prefix }),
    )
    const oracleWithHook = filtered(client(provider, db().adapter()))
    const plain = cur().prisma
    try {
      await withHook.$cache.whenReady(5000)
      const q = { orderBy: { id: 'asc' as const } }
      expect(show(await withHook.member.findMany(q))).toEqual(show(await oracleWithHook.member.findMany(q)))
      expect(show(await plain.member.findMany(q))).toEqual(show(await cur().raw.member.findMany(q)))
      expect(show(await withHook.member.findMany(q))).toEqual(show(await oracleWithHook.member.findMany(q)))
    } finally {
      await withHook.$cache.close()
      await withHook.$disconnect()
      await oracleWithHook.$disconnect()
    }
  })
})
