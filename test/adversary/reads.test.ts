// ADVERSARY (deterministic): reads that try to make two different queries share an entry, or one query answer
// differently from Prisma: argument key order where it matters, values of look-alike types, arguments that change
// under Strata's feet, invalid arguments, negative results. Each case runs a sequence of reads on the cached
// client and the same sequence on the oracle; the answers (or errors) must be equal, field order included.
import { describe, expect, it } from 'vitest'
import { type Raw, show, stage } from './database.ts'

type Steps = (p: Raw) => Array<() => Promise<unknown>>
interface Case {
  name: string
  steps: Steps
  broken?: boolean
}

const cases: Case[] = [
  {
    name: 'aggregate _sum/_max field order reversed between two calls',
    steps: (p) => [
      () => p.member.aggregate({ _max: { score: true, id: true } }),
      () => p.member.aggregate({ _max: { id: true, score: true } }),
      () => p.member.aggregate({ _sum: { score: true, karma: true }, _count: { id: true, _all: true } }),
      () => p.member.aggregate({ _count: { _all: true, id: true }, _sum: { karma: true, score: true } }),
    ],
  },
  {
    name: 'groupBy aggregate selections in reversed key order',
    steps: (p) => [
      () => p.member.groupBy({ by: ['orgCode'], _max: { score: true, id: true }, orderBy: { orgCode: 'asc' } }),
      () => p.member.groupBy({ by: ['orgCode'], _max: { id: true, score: true }, orderBy: { orgCode: 'asc' } }),
    ],
  },
  {
    name: 'count with a select in two orders',
    steps: (p) => [
      () => p.member.count({ select: { _all: true, mentorId: true } }),
      () => p.member.count({ select: { mentorId: true, _all: true } }),
    ],
  },
  {
    name: 'Json equals with keys in another order',
    steps: (p) => [
      () => p.badge.findMany({ where: { meta: { equals: { a: [1, { b: null }] } } } }),
      W(() => p.badge.update({ where: { memberId: 1 }, data: { meta: { x: 1, y: 2 } } })),
      () => p.badge.findMany({ where: { meta: { equals: { x: 1, y: 2 } } } }),
      () => p.badge.findMany({ where: { meta: { equals: { y: 2, x: 1 } } } }),
      () => p.badge.findMany({ where: { NOT: { meta: { equals: { y: 2, x: 1 } } } } }),
      () => p.badge.findMany({ where: { meta: { path: ['x'], equals: 1 } as never } }),
    ],
  },
  {
    name: 'BigInt vs number and Decimal vs string filters',
    steps: (p) => [
      () => p.member.findMany({ where: { karma: 9007199254740993n } }),
      () => p.member.findMany({ where: { karma: 9007199254740992 } }),
      () => p.org.findMany({ where: { budget: '12.5' } }),
      () => p.org.findMany({ where: { budget: '12.50' } }),
      () => p.org.findMany({ where: { budget: 12.5 } }),
    ],
  },
  {
    name: 'Date filter vs ISO string, and an invalid Date (Prisma throws)',
    steps: (p) => [
      () => p.member.count({ where: { joinedAt: { lt: new Date('2100-01-01') } } }),
      () => p.member.count({ where: { joinedAt: { lt: '2100-01-01T00:00:00.000Z' } } }),
      () => p.member.count({ where: { joinedAt: { lt: new Date('nope') } } }),
      () => p.member.count({ where: { joinedAt: { lt: new Date('nope') } } }),
    ],
  },
  {
    name: 'invalid arguments throw every time (never cached)',
    steps: (p) => [
      () => p.member.findUnique({ where: { score: 1 } as never }),
      () => p.member.findUnique({ where: { score: 1 } as never }),
      () => p.member.findMany({ take: 'x' as never }),
      () => p.member.findMany({ take: 'x' as never }),
      () => p.member.findMany({ where: { nope: 1 } as never }),
      () => p.member.findMany({ where: { nope: 1 } as never }),
    ],
  },
  {
    name: 'negative results, then a create, then OrThrow forms',
    steps: (p) => [
      () => p.member.findUnique({ where: { handle: 'zz' } }),
      () => p.member.findFirstOrThrow({ where: { handle: 'zz' } }),
      () => p.member.findUniqueOrThrow({ where: { handle: 'zz' } }),
      W(() => p.member.create({ data: { handle: 'zz', orgCode: 'acme' } })),
      () => p.member.findUnique({ where: { handle: 'zz' } }),
      () => p.member.findFirstOrThrow({ where: { handle: 'zz' } }),
      () => p.member.findUniqueOrThrow({ where: { handle: 'zz' } }),
    ],
  },
  {
    name: 'a getter in where returns another value each time it is read',
    broken: true,
    steps: (p) => {
      let n = 0
      const where = {
        get id() {
          n++
          return n === 1 ? 1 : 2
        },
      }
      return [() => p.member.findUnique({ where }), () => p.member.findUnique({ where: { id: 1 } })]
    },
  },
  {
    name: 'arguments mutated after the call, before await',
    steps: (p) => [
      async () => {
        const args = { where: { id: 1 } }
        const q = p.member.findUnique(args)
        args.where.id = 2
        return q
      },
      () => p.member.findUnique({ where: { id: 1 } }),
      () => p.member.findUnique({ where: { id: 2 } }),
    ],
  },
  {
    name: 'result mutated by the caller, then read again',
    steps: (p) => [
      async () => {
        const r = await p.member.findMany({ include: { badge: true }, orderBy: { id: 'asc' } })
        ;(r[0] as { handle: string }).handle = 'mutated'
        const icon = r[0]?.badge?.icon as Uint8Array | undefined
        if (icon) icon[0] = 77
        return 'ok'
      },
      () => p.member.findMany({ include: { badge: true }, orderBy: { id: 'asc' } }),
    ],
  },
  {
    name: 'fluent chains: to-one, to-many, null parent, OrThrow parent missing',
    steps: (p) => [
      () => p.member.findUnique({ where: { id: 3 } }).mentor(),
      () =>
        p.member
          .findUnique({ where: { id: 3 } })
          .mentor()
          .mentees(),
      () => p.member.findUnique({ where: { id: 1 } }).mentor(),
      () => p.member.findUnique({ where: { id: 99 } }).badge(),
      () => p.member.findUniqueOrThrow({ where: { id: 99 } }).badge(),
      () => p.team.findUnique({ where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } } }).members(),
      W(() => p.member.update({ where: { id: 2 }, data: { mentorId: 3 } })),
      () =>
        p.member
          .findUnique({ where: { id: 3 } })
          .mentor()
          .mentees(),
      () => p.member.findUnique({ where: { id: 3 } }).mentees(),
    ],
  },
  {
    name: 'select order vs include order with the same fields',
    steps: (p) => [
      () => p.member.findFirst({ where: { id: 1 }, select: { handle: true, id: true, badge: true } }),
      () => p.member.findFirst({ where: { id: 1 }, select: { badge: true, id: true, handle: true } }),
      () => p.member.findFirst({ where: { id: 1 }, include: { badge: true, team: true } }),
      () => p.member.findFirst({ where: { id: 1 }, include: { team: true, badge: true } }),
      () => p.member.findFirst({ where: { id: 1 }, select: { _count: { select: { mentees: true, projects: true } } } }),
      () => p.member.findFirst({ where: { id: 1 }, select: { _count: { select: { projects: true, mentees: true } } } }),
    ],
  },
  {
    name: 'cursor pagination and distinct across a write',
    steps: (p) => [
      () => p.member.findMany({ cursor: { id: 2 }, take: 2, orderBy: { id: 'asc' } }),
      () => p.member.findMany({ distinct: ['orgCode'], orderBy: { id: 'asc' } }),
      W(() =>
        p.member
          .delete({ where: { id: 2 } })
          .then(() => p.member.create({ data: { id: 2, handle: 'b2', orgCode: 'init' } })),
      ),
      () => p.member.findMany({ cursor: { id: 2 }, take: 2, orderBy: { id: 'asc' } }),
      () => p.member.findMany({ distinct: ['orgCode'], orderBy: { id: 'asc' } }),
    ],
  },
  {
    name: 'relation filters at depth, then a write to the deepest model',
    steps: (p) => [
      () => p.org.findMany({ where: { teams: { some: { projects: { some: { tasks: { some: { done: true } } } } } } } }),
      W(() => p.task.update({ where: { id: 3 }, data: { done: true } })),
      () => p.org.findMany({ where: { teams: { some: { projects: { some: { tasks: { some: { done: true } } } } } } } }),
      () => p.org.findMany({ orderBy: { members: { _count: 'desc' } } }),
      W(() =>
        p.member
          .create({ data: { handle: 'n1', orgCode: 'init' } })
          .then(() => p.member.create({ data: { handle: 'n2', orgCode: 'init' } })),
      ),
      () => p.org.findMany({ orderBy: [{ members: { _count: 'desc' } }, { code: 'asc' }] }),
    ],
  },
  {
    name: 'skill name change seen through explicit m2n include from the member side',
    steps: (p) => [
      () =>
        p.member.findUnique({
          where: { id: 1 },
          select: { skills: { select: { skill: true }, orderBy: { skillName: 'asc' } } },
        }),
      W(() => p.skill.update({ where: { name: 'sql' }, data: { name: 'zsql' } })),
      () =>
        p.member.findUnique({
          where: { id: 1 },
          select: { skills: { select: { skill: true }, orderBy: { skillName: 'asc' } } },
        }),
    ],
  },
  {
    // Outside Prisma's types, but JavaScript callers pass them: Prisma answers `findFirst(null)` and rejects others.
    name: 'null, array and number arguments',
    steps: (p) => {
      const reads = p.member as unknown as Record<string, (args: unknown) => Promise<unknown>>
      const ops = ['findFirst', 'findFirstOrThrow', 'findMany', 'count', 'findUnique']
      return [null, [], 5].flatMap((args) => ops.map((op) => () => reads[op]?.(args) as Promise<unknown>))
    },
  },
  {
    name: 'view read before and after a write to its base table',
    steps: (p) => [
      () => p.teamSize.findMany({ orderBy: { orgCode: 'asc' } }),
      W(() => p.member.create({ data: { handle: 'v', orgCode: 'init' } })),
      () => p.teamSize.findMany({ orderBy: { orgCode: 'asc' } }),
    ],
  },
]

/** Marks a step as a write: it runs on the cached client only (its effect is in the shared database). */
const W = <T>(f: () => Promise<T>) => Object.assign(f, { write: true })
const isWrite = (f: () => Promise<unknown>) => (f as { write?: boolean }).write === true

async function settle(step: () => Promise<unknown>) {
  try {
    return show({ ok: await step() })
  } catch (e) {
    const m = String((e as Error).message)
    return show({ err: (e as { code?: string }).code ?? m.split('\n').filter(Boolean).at(-1)?.slice(0, 80) })
  }
}

for (const provider of ['postgres', 'sqlite'] as const) {
  describe(`adversary reads: ${provider} / two-tier`, () => {
    const { fresh } = stage(provider)
    for (const c of cases) {
      ;(c.broken && !process.env.ADV_SHOW_BROKEN ? it.fails : it)(c.name, async () => {
        const w = await fresh()
        const cached = c.steps(w.prisma as unknown as Raw)
        const oracle = c.steps(w.raw)
        const got: string[] = []
        const want: string[] = []
        // Each read on the cached client then on the oracle (same data); writes on the cached client only. Then
        // every read again (answered from the cache this time).
        for (let pass = 0; pass < 2; pass++) {
          const again = pass ? c.steps(w.prisma as unknown as Raw) : cached
          const againOracle = pass ? c.steps(w.raw) : oracle
          for (let i = 0; i < again.length; i++) {
            const step = again[i] as () => Promise<unknown>
            if (isWrite(step)) {
              if (!pass) await step().catch(() => {})
              continue
            }
            got.push(`${pass}:${i} ${await settle(step)}`)
            want.push(`${pass}:${i} ${await settle(againOracle[i] as () => Promise<unknown>)}`)
          }
        }
        expect(got).toEqual(want)
      })
    }
  })
}
