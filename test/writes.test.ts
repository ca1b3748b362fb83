// Every write form keeps the cache correct: after it returns, a read through the cached client equals the
// database, for reads of the written model and for reads that reach it through relations.
import { beforeEach, describe, expect, it } from 'vitest'
import { schema } from '../generated/sqlite/strata/index.js'
import { casePerTest } from './support/case-per-test.ts'
import { ansiSql, matrix, type RawClient, type Setup, unsupportedOn } from './support/matrix.ts'

// The generator's module (`cache({ schema })`) must invalidate exactly as the schema text read at run time does,
// and write-through models (rows put after writes, not dropped) must stay as coherent as invalidated ones.
const writeThrough = { strategy: 'write-through' } as const
const everyModelWriteThrough = {
  models: Object.fromEntries(
    ['User', 'Profile', 'Post', 'Comment', 'Tag', 'Team', 'Membership'].map((m) => [m, writeThrough]),
  ),
}
const cases = [
  ...matrix.map((c) => ({ ...c, source: 'schema text' })),
  { ...matrix[1]!, source: 'generated module' },
  ...matrix.map((c) => ({ ...c, source: 'write-through' })),
]
const optionsOf = (source: string) => ({
  ...(source.includes('generated module') ? { schema } : {}),
  ...(source.includes('write-through') ? everyModelWriteThrough : {}),
})

describe.each(cases)('writes: $provider / $tiers / $source', (c) => {
  const scene = casePerTest(c, optionsOf(c.source))
  let s: Setup
  beforeEach(async () => {
    s = scene.s
    await s.raw.user.create({
      data: {
        id: 1,
        email: 'a@x',
        profile: { create: { bio: 'a' } },
        posts: { create: [{ id: 1, title: 'p1', tags: { create: [{ id: 1, name: 't1' }] } }] },
      },
    })
    await s.raw.user.create({ data: { id: 2, email: 'b@x', invitedById: 1 } })
    await s.raw.comment.create({ data: { id: 1, body: 'c', postId: 1, authorId: 2 } })
    await s.raw.team.create({ data: { id: 1, name: 'team', members: { create: { userId: 1, role: 'owner' } } } })
    if (c.provider === 'postgres') {
      // Explicit ids do not advance PostgreSQL sequences; move them past the seeded rows.
      for (const table of ['User', 'Profile', 'Post', 'Tag', 'Comment', 'Team']) {
        await s.raw.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), 100)`)
      }
    }
  })

  /** Reads touching every model, through relations, filters and counts; run on both clients with one shape. */
  const reads = (p: RawClient) =>
    Promise.all([
      p.user.findMany({ orderBy: { id: 'asc' }, include: { posts: { include: { tags: true } }, profile: true } }),
      p.user.findMany({ where: { posts: { some: { tags: { some: { name: 't1' } } } } }, select: { id: true } }),
      p.user.findMany({ select: { id: true, _count: { select: { comments: true, invitees: true } } } }),
      p.post.findMany({ orderBy: { id: 'asc' }, include: { author: true, comments: true, _count: true } }),
      p.tag.findMany({ orderBy: { id: 'asc' }, include: { posts: { select: { id: true } } } }),
      p.team.findMany({ include: { members: { include: { user: { select: { email: true } } } } } }),
      p.comment.count(),
      p.profile.findMany({ orderBy: { id: 'asc' } }),
      p.user.findUnique({ where: { id: 2 } }).invitedBy(),
      // Point reads: per-row entries on write-through models, by id, by another unique key, by a compound key.
      p.user.findUnique({ where: { id: 1 } }),
      p.user.findUnique({ where: { id: 2 }, select: { email: true, invitedById: true } }),
      p.user.findUnique({ where: { email: 'b@x' }, omit: { avatar: true } }),
      p.user.findUnique({ where: { id: 99 } }),
      p.post.findUnique({ where: { id: 1 } }),
      p.post.findUnique({ where: { authorId_title: { authorId: 1, title: 'p1' } } }),
      p.profile.findUnique({ where: { userId: 1 } }),
      p.tag.findUnique({ where: { name: 't1' } }),
      p.team.findUnique({ where: { id: 1 } }),
      p.team.findUnique({ where: { id: 7 } }),
      p.membership.findUnique({ where: { userId_teamId: { userId: 1, teamId: 1 } } }),
      p.comment.findUnique({ where: { id: 1 } }),
    ])

  async function expectCoherent(write: () => Promise<unknown>) {
    const cached = s.prisma as unknown as RawClient
    // Nothing writes between these two reads of the oracle's: once answers both (the second read is all hits).
    const before = await reads(s.raw)
    expect(await reads(cached)).toEqual(before) // warm the cache
    expect(await reads(cached)).toEqual(before)
    await write()
    expect(await reads(cached)).toEqual(await reads(s.raw))
  }

  const writes: Array<[string, (p: Setup['prisma']) => Promise<unknown>]> = [
    ['create', (p) => p.post.create({ data: { title: 'new', authorId: 2 } })],
    ['createMany', (p) => p.tag.createMany({ data: [{ name: 'x' }, { name: 'y' }] })],
    ['createManyAndReturn', (p) => p.comment.createManyAndReturn({ data: [{ body: 'z', postId: 1, authorId: 1 }] })],
    ['update', (p) => p.user.update({ where: { id: 1 }, data: { name: 'renamed' } })],
    ['updateMany', (p) => p.post.updateMany({ data: { views: { increment: 5 } } })],
    ['updateManyAndReturn', (p) => p.profile.updateManyAndReturn({ data: { bio: 'new bio' } })],
    ['upsert (create)', (p) => p.tag.upsert({ where: { name: 'u' }, create: { name: 'u' }, update: {} })],
    ['upsert (update)', (p) => p.tag.upsert({ where: { name: 't1' }, create: { name: 't1' }, update: { name: 't9' } })],
    ['delete with Cascade and SetNull', (p) => p.user.delete({ where: { id: 1 } })],
    ['deleteMany with Cascade', (p) => p.post.deleteMany({})],
    [
      'compound id update',
      (p) => p.membership.update({ where: { userId_teamId: { userId: 1, teamId: 1 } }, data: { role: 'x' } }),
    ],
    [
      'compound unique update',
      (p) => p.post.update({ where: { authorId_title: { authorId: 1, title: 'p1' } }, data: { views: 9 } }),
    ],
    [
      'nested create',
      (p) =>
        p.user.update({ where: { id: 2 }, data: { posts: { create: { title: 'n', tags: { connect: { id: 1 } } } } } }),
    ],
    [
      'nested connectOrCreate',
      (p) =>
        p.post.update({
          where: { id: 1 },
          data: { tags: { connectOrCreate: { where: { name: 'q' }, create: { name: 'q' } } } },
        }),
    ],
    ['nested m-n set', (p) => p.tag.update({ where: { id: 1 }, data: { posts: { set: [] } } })],
    ['nested disconnect (to-one)', (p) => p.post.update({ where: { id: 1 }, data: { author: { disconnect: true } } })],
    [
      'nested connect (1-n from the parent side)',
      (p) => p.user.update({ where: { id: 2 }, data: { posts: { connect: { id: 1 } } } }),
    ],
    [
      'nested update through a relation',
      (p) => p.user.update({ where: { id: 1 }, data: { profile: { update: { bio: 'deep' } } } }),
    ],
    [
      'nested upsert',
      (p) =>
        p.user.update({
          where: { id: 2 },
          data: { profile: { upsert: { create: { bio: 'p2' }, update: { bio: 'p2' } } } },
        }),
    ],
    ['nested delete', (p) => p.user.update({ where: { id: 1 }, data: { profile: { delete: true } } })],
    ['nested deleteMany with Cascade', (p) => p.user.update({ where: { id: 1 }, data: { posts: { deleteMany: {} } } })],
    [
      'nested updateMany',
      (p) =>
        p.user.update({ where: { id: 1 }, data: { posts: { updateMany: { where: {}, data: { published: true } } } } }),
    ],
    ['self-relation', (p) => p.user.update({ where: { id: 2 }, data: { invitedBy: { disconnect: true } } })],
    ['key update with onUpdate Cascade', (p) => p.team.update({ where: { id: 1 }, data: { id: 7 } })],
    [
      '$executeRaw',
      (p) =>
        c.provider === 'mysql'
          ? p.$executeRaw`UPDATE \`Post\` SET \`views\` = ${42}`
          : p.$executeRaw`UPDATE "Post" SET "views" = ${42}`,
    ],
    ['$executeRawUnsafe', (p) => p.$executeRawUnsafe(ansiSql(c.provider, 'DELETE FROM "Comment"'))],
    [
      '$executeRawUnsafe on the join table',
      (p) => p.$executeRawUnsafe(ansiSql(c.provider, 'DELETE FROM "_PostToTag"')),
    ],
  ]

  it.each(writes.filter(([name]) => !unsupportedOn[c.provider].includes(name)))('%s', async (_name, write) => {
    await expectCoherent(() => write(s.prisma))
  })

  it('a write that throws still invalidates (it may have committed)', async () => {
    await expectCoherent(async () => {
      await s.prisma.user.create({ data: { email: 'a@x' } }).catch(() => 'unique violation')
    })
  })
})
