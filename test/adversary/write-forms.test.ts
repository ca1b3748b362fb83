// ADVERSARY (deterministic, keep as regression): every write form on the adversary schema (compound ids, PK=FK,
// Cascade/SetNull/SetDefault chains, onUpdate Cascade through compound keys, self-relations, both many-to-manys,
// @@map names), run through the cached client after every read was cached; then every read equals the oracle's.
import { describe, expect, it } from 'vitest'
import { type Cached, diff, stage, warm } from './database.ts'

type Attack = [name: string, run: (p: Cached) => Promise<unknown>]
// biome-ignore lint/suspicious/noExplicitAny: attacks use the full client API on both generated clients
const any = (p: Cached) => p as any

const attacks: Attack[] = [
  [
    'rename an org (onUpdate Cascade into compound keys of teams, members, projects)',
    (p) => p.org.update({ where: { code: 'acme' }, data: { code: 'acme2' } }),
  ],
  [
    'rename a team slug (compound id, onUpdate Cascade to members and projects)',
    (p) => p.team.update({ where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } }, data: { slug: 'kernel' } }),
  ],
  [
    'delete a team (members SetNull, projects SetDefault)',
    (p) => p.team.delete({ where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } } }),
  ],
  [
    'delete an org (Cascade teams, members, badges, skills, m2n rows)',
    (p) => p.org.delete({ where: { code: 'acme' } }),
  ],
  ['delete a member (badge cascade, mentees SetNull, m2n)', (p) => p.member.delete({ where: { id: 1 } })],
  [
    'rename a skill (onUpdate Cascade into an explicit m2n compound id)',
    (p) => p.skill.update({ where: { name: 'ts' }, data: { name: 'typescript' } }),
  ],
  [
    'move a badge (PK that is a FK) by connect',
    (p) => p.badge.update({ where: { memberId: 1 }, data: { member: { connect: { id: 3 } } } }),
  ],
  ['move a badge by scalar PK', (p) => p.badge.update({ where: { memberId: 1 }, data: { memberId: 2 } })],
  [
    'nested member update: badge upsert, mentor disconnect, mentees set, projects set',
    (p) =>
      p.member.update({
        where: { id: 2 },
        data: {
          badge: { upsert: { create: { label: 'new' }, update: { label: 'upd' } } },
          mentor: { disconnect: true },
          mentees: { set: [] },
          projects: { set: [{ id: 1 }] },
        },
      }),
  ],
  [
    'implicit m2n set from the other side',
    (p) => p.project.update({ where: { id: 1 }, data: { members: { set: [{ id: 3 }] } } }),
  ],
  [
    'implicit m2n disconnect',
    (p) => p.member.update({ where: { id: 2 }, data: { projects: { disconnect: [{ id: 2 }] } } }),
  ],
  [
    'connect a member to a team by compound key',
    (p) =>
      p.member.update({
        where: { id: 3 },
        data: { team: { connect: { orgCode_slug: { orgCode: 'acme', slug: 'web' } } } },
      }),
  ],
  [
    'disconnect a member from a team (compound optional FK)',
    (p) => p.member.update({ where: { id: 1 }, data: { team: { disconnect: true } } }),
  ],
  [
    'mentor connect by unique handle',
    (p) => p.member.update({ where: { handle: 'cyd' }, data: { mentor: { connect: { handle: 'ann' } } } }),
  ],
  [
    'mentees connect from the other side of a self-relation',
    (p) => p.member.update({ where: { id: 3 }, data: { mentees: { connect: [{ id: 1 }] } } }),
  ],
  ['delete the root of a task tree (self-relation Cascade, 3 levels)', (p) => p.task.delete({ where: { id: 1 } })],
  ['delete a project (tasks cascade, m2n rows)', (p) => p.project.delete({ where: { id: 1 } })],
  [
    'upsert that creates',
    (p) =>
      p.member.upsert({
        where: { handle: 'dee' },
        create: { handle: 'dee', orgCode: 'acme', mentorId: 1 },
        update: {},
      }),
  ],
  [
    'upsert that updates a unique key',
    (p) =>
      p.member.upsert({
        where: { handle: 'bob' },
        create: { handle: 'x', orgCode: 'acme' },
        update: { handle: 'bobby', mentorId: 3 },
      }),
  ],
  [
    'createMany skipDuplicates (one new, one duplicate)',
    (p) =>
      p.memberSkill.createMany({
        data: [
          { memberId: 1, skillName: 'ts', level: 9 },
          { memberId: 2, skillName: 'lua' },
        ],
        skipDuplicates: true as never,
      }),
  ],
  [
    'createManyAndReturn members',
    (p) =>
      any(p).member.createManyAndReturn({
        data: [
          { handle: 'e1', orgCode: 'init' },
          { handle: 'e2', orgCode: 'acme', mentorId: 2 },
        ],
      }),
  ],
  [
    'updateManyAndReturn moving members between orgs',
    (p) =>
      any(p).member.updateManyAndReturn({
        where: { orgCode: 'acme' },
        data: { orgCode: 'init', teamOrg: null, teamSlug: null },
      }),
  ],
  [
    'updateMany through a relation filter',
    (p) => p.member.updateMany({ where: { mentor: { is: { handle: 'ann' } } }, data: { score: 99 } }),
  ],
  [
    'deleteMany orgs through a relation filter',
    (p) => p.org.deleteMany({ where: { teams: { some: { slug: 'web' } } } }),
  ],
  [
    'deep nested: org > team > member > badge update',
    (p) =>
      p.org.update({
        where: { code: 'acme' },
        data: {
          teams: {
            update: {
              where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } },
              data: { members: { update: { where: { id: 1 }, data: { badge: { update: { label: 'deep' } } } } } },
            },
          },
        },
      }),
  ],
  [
    'deep nested create: org > team > member > badge + skills connectOrCreate',
    (p) =>
      p.org.create({
        data: {
          code: 'new',
          name: 'New',
          teams: {
            create: {
              slug: 's',
              title: 'S',
              members: {
                create: {
                  handle: 'zed',
                  org: { connect: { code: 'acme' } },
                  badge: { create: { label: 'z' } },
                  skills: { create: { skill: { connectOrCreate: { where: { name: 'go' }, create: { name: 'go' } } } } },
                },
              },
            },
          },
        },
      }),
  ],
  [
    'change an explicit m2n compound id (skillName)',
    (p) =>
      p.memberSkill.update({
        where: { memberId_skillName: { memberId: 1, skillName: 'sql' } },
        data: { skillName: 'lua' },
      }),
  ],
  [
    'Decimal/BigInt increments',
    (p) => p.member.update({ where: { id: 1 }, data: { karma: { increment: 2 }, score: { multiply: 2 } } }),
  ],
  [
    'Json and Bytes update on a PK=FK row',
    (p) =>
      p.badge.update({
        where: { memberId: 1 },
        data: { meta: { __proto__: 1, x: [] } as never, icon: new Uint8Array([9]) },
      }),
  ],
  [
    'nested deleteMany of tasks through project',
    (p) => p.project.update({ where: { id: 1 }, data: { tasks: { deleteMany: { parentId: null } } } }),
  ],
  [
    'member changes org while team stays (FK to org only)',
    (p) => p.member.update({ where: { id: 2 }, data: { org: { connect: { code: 'init' } } } }),
  ],
  [
    'batch transaction of mixed writes',
    (p) =>
      p.$transaction([
        p.task.update({ where: { id: 3 }, data: { done: true } }),
        p.team.delete({ where: { orgCode_slug: { orgCode: 'acme', slug: 'web' } } }),
      ]),
  ],
  [
    'interactive transaction: writes then throw (rollback)',
    (p) =>
      p
        .$transaction(async (tx) => {
          await tx.org.update({ where: { code: 'acme' }, data: { code: 'gone' } })
          throw new Error('rollback')
        })
        .catch(() => {}),
  ],
  [
    'interactive transaction: write, read inside, commit',
    (p) =>
      p.$transaction(async (tx) => {
        await tx.member.delete({ where: { id: 2 } })
        return tx.member.findMany({ include: { mentees: true } })
      }),
  ],
  [
    'write that fails with a unique violation (Prisma throws)',
    (p) => p.member.update({ where: { id: 1 }, data: { handle: 'bob' } }).catch(() => {}),
  ],
  ['delete of a missing row (P2025)', (p) => p.member.delete({ where: { id: 999 } }).catch(() => {})],
  [
    'fluent: member -> badge update via where on fluent read',
    async (p) => {
      await p.member.findUnique({ where: { id: 1 } }).badge()
      await p.badge.update({ where: { memberId: 1 }, data: { label: 'fluent' } })
    },
  ],
]

for (const provider of ['postgres', 'sqlite'] as const) {
  describe(`adversary write forms: ${provider} / two-tier`, () => {
    const { fresh } = stage(provider)

    it.each(attacks)('%s', async (_name, run) => {
      const w = await fresh()
      await warm(w.prisma)
      await run(w.prisma).catch((e) => console.log(`attack threw: ${_name}: ${String(e).split('\n').at(-1)}`))
      expect(await diff(w.prisma, w.raw)).toEqual([])
    })
  })
}
