// ADVERSARY (deterministic): write-through rows written through unique keys that the write itself changes, by a
// writer whose client omits fields or computes them, read by instances that do not.
import { cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { type Cached, client, converges, type Raw, show, stage } from './database.ts'

const provider = 'postgres' as const
const wt = { models: { Member: { strategy: 'write-through' as const }, Badge: { strategy: 'write-through' as const } } }
const { cur, db, fresh } = stage(provider)

const points = (p: Raw | Cached) => {
  const m = (p as Raw).member
  return [
    () => m.findUnique({ where: { id: 1 } }),
    () => m.findUnique({ where: { id: 2 } }),
    () => m.findUnique({ where: { handle: 'ann' } }),
    () => m.findUnique({ where: { handle: 'anna' } }),
    () => m.findUnique({ where: { handle: 'bob' } }),
    () => m.findUniqueOrThrow({ where: { handle: 'anna' } }),
    () => m.findUnique({ where: { id: 1 }, select: { karma: true, handle: true } }),
    () => (p as Raw).badge.findUnique({ where: { memberId: 1 } }),
    () => (p as Raw).badge.findUnique({ where: { memberId: 2 } }),
  ]
}

async function allConverge(writer: Cached, other: Cached, raw: Raw) {
  const mine = points(writer)
  const theirs = points(other)
  const oracle = points(raw)
  for (let i = 0; i < oracle.length; i++) {
    const want = show(await oracle[i]?.().catch((e) => `throws ${String(e).split('\n').at(-1)}`))
    expect(show(await mine[i]?.().catch((e) => `throws ${String(e).split('\n').at(-1)}`)), `writer read ${i}`).toEqual(
      want,
    )
    await converges(theirs[i] as () => Promise<unknown>, oracle[i] as () => Promise<unknown>)
  }
}

describe('adversary write-through: postgres / two-tier', () => {
  const writes: Array<[string, (p: Cached) => Promise<unknown>]> = [
    [
      'update by a unique key that the update changes',
      (p) => p.member.update({ where: { handle: 'ann' }, data: { handle: 'anna' } }),
    ],
    [
      'upsert by a unique key that its update changes',
      (p) =>
        p.member.upsert({
          where: { handle: 'ann' },
          create: { handle: 'x', orgCode: 'acme' },
          update: { handle: 'anna', karma: 5 },
        }),
    ],
    ['delete by a unique key', (p) => p.member.delete({ where: { handle: 'bob' } })],
    // Fluent writes: the hook's query answers with the mentor Prisma unpacked, not the member written.
    [
      'a fluent update (its answer is the mentor)',
      (p) =>
        (
          p.member.update({ where: { id: 2 }, data: { karma: 7, handle: 'bobby' } }) as unknown as {
            mentor(): Promise<unknown>
          }
        ).mentor(),
    ],
    [
      'a fluent delete (its answer is the mentor)',
      (p) => (p.member.delete({ where: { id: 2 } }) as unknown as { mentor(): Promise<unknown> }).mentor(),
    ],
    [
      'update with a select of one field',
      (p) => p.member.update({ where: { id: 1 }, data: { karma: 7, handle: 'anna' }, select: { id: true } }),
    ],
    [
      'updateMany moving a unique value to another row',
      (p) =>
        p.member
          .updateMany({ where: { id: 1 }, data: { handle: 'tmp' } })
          .then(() => p.member.update({ where: { id: 2 }, data: { handle: 'ann' } })),
    ],
    [
      'nested: badge moved between members through the member side',
      (p) => p.member.update({ where: { id: 2 }, data: { badge: { connect: { memberId: 1 } } } }),
    ],
    [
      'a PK change of a member (badge PK=FK references it)',
      (p) => p.member.update({ where: { id: 2 }, data: { id: 20 } }),
    ],
  ]

  for (const [name, write] of writes) {
    it(`write-through: ${name}`, async () => {
      const { prisma, raw } = await fresh(wt)
      const other = await cur().instance(wt)
      for (const p of [prisma, other]) for (const r of points(p)) await r().catch(() => {})
      await write(prisma).catch((e) => console.log(`write threw: ${name}: ${String(e).split('\n').at(-1)}`))
      await allConverge(prisma, other, raw)
    })
  }

  // Writers whose own client differs from the readers' (below cache()): Strata's put reads the row back through the
  // writer's client, so what it stores must still be the row every instance projects from.
  const writers: Array<[string, () => Raw, Record<string, unknown>, { handle: string } | { id: number }]> = [
    [
      'a writer whose client omits a field (global omit) puts rows that a non-omitting reader reads whole',
      () => client(provider, db().adapter(), { omit: { member: { karma: true, score: true } } }),
      { karma: 42 },
      { id: 1 },
    ],
    [
      'a writer with a computed field shadowing a column below cache() puts the stored row, not the computed value',
      () =>
        client(provider, db().adapter()).$extends({
          result: { member: { handle: { needs: { handle: true }, compute: (m) => `@${m.handle}` } } },
        }) as unknown as Raw,
      { score: 3 },
      { id: 1 },
    ],
    [
      'a writer whose query hook below cache() filters rows (soft delete) still leaves readers correct',
      () =>
        client(provider, db().adapter()).$extends({
          query: {
            member: {
              async findUnique({ args, query }) {
                return query({ ...args, where: { ...args.where, score: { gte: 0 } } })
              },
            },
          },
        }) as unknown as Raw,
      { score: -1 },
      { id: 1 },
    ],
    [
      'a writer whose query hook below cache() adds an omit to point reads puts a whole row',
      () =>
        client(provider, db().adapter()).$extends({
          query: {
            member: {
              async findUnique({ args, query }) {
                return query({ ...args, omit: { karma: true } } as never)
              },
            },
          },
        }) as unknown as Raw,
      { score: 4 },
      { id: 1 },
    ],
    [
      'a writer with an extra computed field below cache() puts no field a plain reader would not get',
      () =>
        client(provider, db().adapter()).$extends({
          result: { member: { label: { needs: { handle: true }, compute: (m) => `<${m.handle}>` } } },
        }) as unknown as Raw,
      { score: 5 },
      { handle: 'ann' },
    ],
  ]

  for (const [name, base, data, later] of writers) {
    it(name, async () => {
      const { raw } = await fresh(wt)
      const reader = await cur().instance(wt)
      const writer = base().$extends(cache({ redis: cur().redis, prefix: cur().prefix, ...wt }))
      try {
        await reader.member.findUnique({ where: { id: 1 } })
        await writer.member.update({ where: { id: 1 }, data })
        await converges(
          () => reader.member.findUnique({ where: { id: 1 } }),
          () => raw.member.findUnique({ where: { id: 1 } }),
        )
        // A new instance reads the stored row from Redis.
        const other = await cur().instance(wt)
        expect(show(await other.member.findUnique({ where: later }))).toEqual(
          show(await raw.member.findUnique({ where: later })),
        )
      } finally {
        await writer.$cache.close()
        await writer.$disconnect()
      }
    })
  }
})

describe('adversary write-through: a compound key named otherwise than Prisma names it', () => {
  const teams = { models: { Team: { strategy: 'write-through' as const } } }
  // Prisma rejects these `where`s (an unknown argument): so must the cache, also once the row it names is cached.
  for (const name of ['slug_orgCode', 'team', 'orgCode']) {
    it(`findUnique by \`${name}\` is Prisma's error`, async () => {
      const { prisma, raw } = await fresh(teams)
      const key = { orgCode: 'acme', slug: 'core' }
      const right = { orgCode_slug: key }
      expect(show(await prisma.team.findUnique({ where: right }))).toEqual(
        show(await raw.team.findUnique({ where: right })),
      )
      const read = (p: Raw | Cached) =>
        (p as Raw).team
          .findUnique({ where: { [name]: key } as never })
          .then(show, (e) => `throws ${String(e).split('\n').at(-1)}`)
      const want = await read(raw)
      expect(want).toMatch(/^throws/)
      expect(await read(prisma)).toEqual(want)
    })
  }
})
