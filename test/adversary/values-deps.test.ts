// ADVERSARY (deterministic): extreme values round-tripped through both tiers, dependencies hidden in nested
// selections and orderings, fluent calls on writes, nested createMany/upsert, odd per-query cache options. Each
// read runs on the cached client (miss, then local hit), on a second instance (Redis hit) and on the oracle.
import { describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/adversary/postgres/client/client.ts'
import { type Cached, diff, type Raw, show, stage, warm } from './database.ts'

const provider = 'postgres' as const
const { cur, db, fresh } = stage(provider)

/** The read on the oracle, the cached client twice, and a second instance (from Redis): all equal. */
async function sameEverywhere(read: (p: Raw) => Promise<unknown>, other: Cached) {
  const want = show(await read(cur().raw).catch((e) => `throws ${String(e).split('\n').at(-1)}`))
  for (const p of [cur().prisma, cur().prisma, other, other]) {
    expect(show(await read(p as unknown as Raw).catch((e) => `throws ${String(e).split('\n').at(-1)}`))).toEqual(want)
  }
}

describe('adversary values and dependencies: postgres / two-tier', () => {
  it('extreme values: NaN/Infinity floats, BigInt limits, long Decimals, far dates, odd Json, empty Bytes', async () => {
    await fresh()
    await db().exec(`
      UPDATE members SET score = 'NaN', karma = 9223372036854775807 WHERE id = 1;
      UPDATE members SET score = '-Infinity', karma = -9223372036854775808, joined_at = '0001-01-01T00:00:00Z' WHERE id = 2;
      UPDATE members SET score = '-0', joined_at = '9999-12-31T23:59:59.999Z' WHERE id = 3;
      UPDATE orgs SET budget = '12345678901234567890123456789012345.123456789012345678901234567891' WHERE org_code = 'acme';
      UPDATE orgs SET budget = '-0.000000000000000000000000000001' WHERE org_code = 'init';
      UPDATE badges SET icon = '\\x', meta = '{"__proto__": {"polluted": 1}, "constructor": {"prototype": 1}, "big": 123456789012345678901234567890, "s": "\\ud83d\\ude00", "nested": [[[[[]]]]], "": null}' WHERE member_id = 1;
    `)
    await db().exec(
      `INSERT INTO badges (member_id, label, meta) VALUES (2, '2020-01-01T00:00:00.000Z', '{"d": "2020-01-01T00:00:00.000Z", "n": "12.50", "b": "9007199254740993"}'), (3, 'string', '"just a string"')`,
    )
    const other = await cur().instance()
    await sameEverywhere((p) => p.member.findMany({ orderBy: { id: 'asc' } }), other)
    await sameEverywhere((p) => p.org.findMany({ orderBy: { code: 'asc' } }), other)
    await sameEverywhere((p) => p.badge.findMany({ orderBy: { memberId: 'asc' } }), other)
    await sameEverywhere(
      (p) => p.member.aggregate({ _sum: { karma: true }, _avg: { score: true }, _min: { joinedAt: true } }),
      other,
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('Json null kinds in filters: DbNull, JsonNull and AnyNull are three queries', async () => {
    await fresh()
    await db().exec(`INSERT INTO badges (member_id, label, meta) VALUES (2, 'json-null', 'null'), (3, 'db-null', NULL)`)
    const other = await cur().instance()
    for (const value of [Prisma.DbNull, Prisma.JsonNull, Prisma.AnyNull, Prisma.DbNull]) {
      await sameEverywhere(
        (p) => p.badge.findMany({ where: { meta: { equals: value } }, orderBy: { memberId: 'asc' } }),
        other,
      )
    }
    for (const value of [Prisma.DbNull, Prisma.JsonNull]) {
      await sameEverywhere(
        (p) => p.badge.findMany({ where: { meta: { not: value } }, orderBy: { memberId: 'asc' } }),
        other,
      )
    }
  })

  const deps: Array<[string, (p: Raw) => Promise<unknown>, (p: Cached) => Promise<unknown>]> = [
    [
      'relation filter inside a filtered _count',
      (p) =>
        p.org.findMany({
          orderBy: { code: 'asc' },
          select: { code: true, _count: { select: { members: { where: { badge: { is: { label: 'lead' } } } } } } },
        }),
      (p) => p.badge.update({ where: { memberId: 1 }, data: { label: 'x' } }),
    ],
    [
      'relation filter inside an include where',
      (p) =>
        p.team.findMany({
          orderBy: { slug: 'asc' },
          include: { members: { where: { skills: { some: { level: { gt: 2 } } } } } },
        }),
      (p) => p.memberSkill.updateMany({ data: { level: 1 } }),
    ],
    [
      'ordering by a to-one relation field',
      (p) => p.member.findMany({ orderBy: [{ badge: { label: 'asc' } }, { id: 'asc' }] }),
      (p) => p.badge.create({ data: { memberId: 2, label: 'aaa' } }),
    ],
    [
      'ordering by a relation two levels deep',
      (p) => p.member.findMany({ orderBy: [{ team: { org: { name: 'desc' } } }, { id: 'asc' }] }),
      (p) => p.org.update({ where: { code: 'init' }, data: { name: 'AAA' } }),
    ],
    [
      'filter two levels deep through a compound relation',
      (p) => p.member.findMany({ where: { team: { is: { org: { is: { tier: 'PRO' } } } } }, orderBy: { id: 'asc' } }),
      (p) => p.org.update({ where: { code: 'init' }, data: { tier: 'PRO' } }),
    ],
    [
      'filter through an implicit m2n then a to-many',
      (p) => p.member.count({ where: { projects: { some: { tasks: { some: { done: true } } } } } }),
      (p) => p.task.update({ where: { id: 2 }, data: { done: true } }),
    ],
    [
      'aggregate with a relation filter',
      (p) => p.task.aggregate({ where: { project: { is: { members: { some: { handle: 'bob' } } } } }, _count: true }),
      (p) => p.project.update({ where: { id: 1 }, data: { members: { disconnect: { id: 2 } } } }),
    ],
    [
      'groupBy with a relation filter',
      (p) =>
        p.member.groupBy({
          by: ['orgCode'],
          where: { mentor: { is: { badge: { isNot: null } } } },
          _count: true,
          orderBy: { orgCode: 'asc' },
        }),
      (p) => p.badge.delete({ where: { memberId: 1 } }),
    ],
    [
      'self-relation ordering by _count',
      (p) => p.member.findMany({ orderBy: [{ mentees: { _count: 'desc' } }, { id: 'asc' }], select: { id: true } }),
      (p) => p.member.update({ where: { id: 3 }, data: { mentorId: 3 } }),
    ],
    [
      'fluent on a write result (update(...).badge())',
      (p) => p.badge.findMany({ orderBy: { memberId: 'asc' } }),
      (p) => p.member.update({ where: { id: 1 }, data: { badge: { update: { label: 'fluent-write' } } } }).badge(),
    ],
    [
      'nested createMany through an update',
      (p) => p.member.findMany({ orderBy: { id: 'asc' }, include: { mentees: true } }),
      (p) =>
        p.org.update({
          where: { code: 'init' },
          data: { members: { createMany: { data: [{ handle: 'cm1', mentorId: 3 }, { handle: 'cm2' }] } } },
        }),
    ],
    [
      'nested upsert on a to-many through an implicit m2n',
      (p) => p.project.findMany({ orderBy: { id: 'asc' }, include: { members: { orderBy: { id: 'asc' } } } }),
      (p) =>
        p.member.update({
          where: { id: 3 },
          data: { projects: { upsert: { where: { id: 2 }, create: { name: 'x' }, update: { name: 'upserted' } } } },
        }),
    ],
    [
      'nested connectOrCreate of an implicit m2n from the other side',
      (p) => p.member.findMany({ orderBy: { id: 'asc' }, include: { projects: { orderBy: { id: 'asc' } } } }),
      (p) =>
        p.project.update({
          where: { id: 2 },
          data: {
            members: { connectOrCreate: { where: { handle: 'cyd' }, create: { handle: 'no', orgCode: 'acme' } } },
          },
        }),
    ],
  ]

  for (const [name, read, write] of deps) {
    it(`dependency: ${name}`, async () => {
      await fresh()
      const other = await cur().instance()
      await sameEverywhere(read, other)
      await write(cur().prisma)
      expect(show(await read(cur().prisma as unknown as Raw))).toEqual(show(await read(cur().raw)))
    })
  }

  it('odd but valid per-query cache options never crash and never change the answer', async () => {
    const { prisma, raw } = await fresh()
    const odd: unknown[] = [
      { ttl: 1e9 },
      { tags: ['a'.repeat(100_000)] },
      { key: 'x'.repeat(100_000) },
      {},
      { tags: [] },
    ]
    for (const c of odd) {
      for (let i = 0; i < 2; i++) {
        const got = show(await prisma.member.findMany({ orderBy: { id: 'asc' }, cache: c } as never))
        expect(got, JSON.stringify(c)?.slice(0, 40)).toEqual(
          show(await raw.member.findMany({ orderBy: { id: 'asc' } })),
        )
      }
    }
    await prisma.member.update({ where: { id: 1 }, data: { handle: 'odd' } })
    expect(await diff(prisma, raw)).toEqual([])
  })

  // Prisma reports every invalid argument as a rejected promise; a synchronous throw escapes `.catch()` chains
  // and `Promise.allSettled` callers build.
  it('invalid per-query cache options reject the returned promise instead of throwing synchronously', async () => {
    const { prisma } = await fresh()
    for (const c of [{ ttl: -1 }, { ttl: Number.NaN }, { tags: 'x' }, 'yes', { key: 5 }, null]) {
      let sync: unknown
      let promise: Promise<unknown> | undefined
      try {
        promise = prisma.member.findMany({ cache: c } as never)
      } catch (e) {
        sync = e
      }
      expect(sync, `cache: ${JSON.stringify(c)}`).toBeUndefined()
      await promise?.catch(() => {})
    }
  })

  it('warm everything, then every write of the catalogue from the second instance: the first converges', async () => {
    const { prisma, raw } = await fresh()
    const other = await cur().instance()
    await warm(prisma)
    await other.org
      .update({
        where: { code: 'acme' },
        data: {
          code: 'acme2',
          teams: { update: { where: { orgCode_slug: { orgCode: 'acme2', slug: 'web' } }, data: { slug: 'w2' } } },
        },
      })
      .catch(() =>
        other.org
          .update({ where: { code: 'acme' }, data: { code: 'acme2' } })
          .then(() =>
            other.team.update({ where: { orgCode_slug: { orgCode: 'acme2', slug: 'web' } }, data: { slug: 'w2' } }),
          ),
      )
    await other.$executeRawUnsafe(`UPDATE member_skills SET level = level + 1`)
    const end = Date.now() + 2500
    let d = await diff(prisma, raw)
    while (d.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50))
      d = await diff(prisma, raw)
    }
    expect(d).toEqual([])
  })
})
