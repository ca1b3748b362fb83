// ADVERSARY (deterministic): a write's own answer, and the reads cached before it, through extensions around cache()
// (computed fields needing fields Strata adds to read the row, query hooks added after cache() that change what is
// written or selected) and selections Prisma rejects, against the same stack without cache(). Each case failed once.
import { describe, expect, it } from 'vitest'
import { attack, type C, type R, type Stack } from './two-worlds.ts'

const reads: R[] = [
  ['notes of 1', (p) => p.note.findMany({ where: { ownerId: 1 }, select: { id: true }, orderBy: { id: 'asc' } })],
  ['count notes of 1', (p) => p.note.count({ where: { ownerId: 1 } })],
  ['note 4', (p) => p.note.findUnique({ where: { id: 4 } })],
]
const wt: Stack = { cacheOptions: { models: { Note: { strategy: 'write-through' } } } }
const stacks: Array<[string, Stack]> = [
  ['precise', {}],
  ['write-through', wt],
]

async function diffs(ds: Promise<string[]>) {
  const d = await ds
  if (d.length) console.log(d.join('\n'))
  return d
}

// 1. A computed field whose `needs` Strata added to the write's selection and took out again vanishes from the answer:
//    Prisma applies result extensions after every query hook, and only when the needed fields are on the row.
const slug = (c: C) =>
  c.$extends({ result: { note: { slug: { needs: { id: true }, compute: (n: { id: number }) => `note-${n.id}` } } } })
const label = (c: C) =>
  c.$extends({
    result: { note: { label: { needs: { title: true }, compute: (n: { title: string }) => `L:${n.title}` } } },
  })
describe('1 computed field needing an added field', () => {
  for (const [sn, st] of stacks)
    for (const side of ['below', 'above'] as const) {
      it(`${sn}, extension ${side} cache(): update select { slug, rank }`, async () => {
        expect(
          await diffs(
            attack(
              { ...st, [side]: slug },
              (p) => p.note.update({ where: { id: 3 }, data: { rank: 2 }, select: { slug: true, rank: true } }),
              reads,
            ),
          ),
        ).toEqual([])
      })
      it(`${sn}, extension ${side} cache(): update omit { title } with label needing title`, async () => {
        expect(
          await diffs(
            attack(
              { ...st, [side]: label },
              (p) => p.note.update({ where: { id: 4 }, data: { rank: 2 }, omit: { title: true } }),
              reads,
            ),
          ),
        ).toEqual([])
      })
    }
})

// 2. A selection Prisma rejects (every field omitted, select empty or all false) is made valid by the added fields:
//    the cached write commits and answers {}, the uncached one throws a validation error and writes nothing.
const ALL = {
  id: true,
  title: true,
  ownerId: true,
  ownerHandle: true,
  pinned: true,
  rank: true,
  kind: true,
  shelfCode: true,
  shelfNo: true,
}
describe('2 invalid selection made valid', () => {
  for (const [sn, st] of stacks) {
    it(`${sn}: update omit every field`, async () => {
      expect(
        await diffs(attack(st, (p) => p.note.update({ where: { id: 4 }, data: { ownerId: 1 }, omit: ALL }), reads)),
      ).toEqual([])
    })
    it(`${sn}: create select {}`, async () => {
      expect(
        await diffs(attack(st, (p) => p.note.create({ data: { id: 80, title: 'o', ownerId: 1 }, select: {} }), reads)),
      ).toEqual([])
    })
    it(`${sn}: global omit of the one field left`, async () => {
      const { rank: _, ...rest } = ALL
      const stack = { ...st, clientOptions: { omit: { note: { rank: true } } } }
      expect(
        await diffs(attack(stack, (p) => p.note.update({ where: { id: 4 }, data: { ownerId: 1 }, omit: rest }), reads)),
      ).toEqual([])
    })
  }
})

// 3. A query extension added after cache() runs inside Strata's hook: it sees (and may change) the args Strata sent.
const changeData = (c: C) =>
  c.$extends({
    query: { note: { update: ({ args, query }: C) => query({ ...args, data: { ...args.data, ownerId: 2 } }) } },
  })
const setSelect = (c: C) =>
  c.$extends({
    query: { note: { update: ({ args, query }: C) => query({ ...args, select: { id: true, rank: true } }) } },
  })
describe('3 query extension after cache()', () => {
  for (const [sn, st] of stacks) {
    it(`${sn}: data rewritten below Strata's view -> stale reads of the old owner`, async () => {
      expect(
        await diffs(
          attack({ ...st, above: changeData }, (p) => p.note.update({ where: { id: 1 }, data: { rank: 3 } }), reads),
        ),
      ).toEqual([])
    })
    it(`${sn}: select replaced -> Strata strips the fields the extension asked for`, async () => {
      expect(
        await diffs(
          attack(
            { ...st, above: setSelect },
            (p) => p.note.update({ where: { id: 1 }, data: { rank: 3 }, select: { title: true } }),
            reads,
          ),
        ),
      ).toEqual([])
    })
  }
})

// 4. A query hook added after cache() that adds nested writes, or sets a key other rows reference: the models those
//    reach change, though the caller's arguments name none of them.
const accountReads: R[] = [
  ...reads,
  ['notes by handle ann', (p) => p.note.findMany({ where: { ownerHandle: 'ann' }, select: { id: true } })],
  ['pins of 1', (p) => p.pin.findMany({ where: { accountId: 1 }, orderBy: { noteId: 'asc' } })],
  ['account 1', (p) => p.account.findUnique({ where: { id: 1 }, select: { id: true, handle: true, tier: true } })],
  ['notes with owner', (p) => p.note.findMany({ where: { id: 1 }, include: { owner: { select: { tier: true } } } })],
  ['note 1', (p) => p.note.findUnique({ where: { id: 1 } })],
]
const hookAbove = (model: string, op: string, change: (args: C) => C) => (c: C) =>
  c.$extends({ query: { [model]: { [op]: ({ args, query }: C) => query(change(args)) } } })
const nestedAbove: Array<[string, (c: C) => C, (p: C) => PromiseLike<unknown>]> = [
  [
    'account.update gains notes: { updateMany }',
    hookAbove('account', 'update', (a) => ({
      ...a,
      data: { ...a.data, notes: { updateMany: { where: {}, data: { rank: 9 } } } },
    })),
    (p) => p.account.update({ where: { id: 1 }, data: { active: true } }),
  ],
  [
    'account.update gains a handle change that cascades to Note.ownerHandle',
    hookAbove('account', 'update', (a) => ({ ...a, data: { ...a.data, handle: 'anne' } })),
    (p) => p.account.update({ where: { id: 1 }, data: { active: true } }),
  ],
  [
    'note.update gains owner: { update }',
    hookAbove('note', 'update', (a) => ({ ...a, data: { ...a.data, owner: { update: { tier: 'FREE' } } } })),
    (p) => p.note.update({ where: { id: 1 }, data: { rank: 2 } }),
  ],
  [
    'note.create gains pins: { create }',
    hookAbove('note', 'create', (a) => ({ ...a, data: { ...a.data, pins: { create: { accountId: 1 } } } })),
    (p) => p.note.create({ data: { id: 50, title: 'new' } }),
  ],
]
describe('4 query hook after cache() that reaches other models', () => {
  for (const [sn, st] of stacks) {
    for (const [name, above, write] of nestedAbove) {
      it(`${sn}: ${name}`, async () => {
        expect(await diffs(attack({ ...st, above }, write, accountReads))).toEqual([])
      })
    }
  }
})

// 5. A raw-SQL hook added after cache() runs inside Strata's: the statement Strata parsed is not the one sent.
const rawAbove = (c: C) =>
  c.$extends({
    query: {
      $executeRawUnsafe: ({ query }: C) => query(['UPDATE notes SET owner_id = 2 WHERE id = 1']),
      $queryRawUnsafe: ({ query }: C) => query(['UPDATE notes SET owner_id = 2 WHERE id = 2']),
    },
  })
describe('5 raw-SQL hook after cache()', () => {
  for (const [sn, st] of stacks) {
    it(`${sn}: a read-only statement rewritten into a write`, async () => {
      expect(
        await diffs(attack({ ...st, above: rawAbove }, (p) => p.$queryRawUnsafe('SELECT 1 AS one'), reads)),
      ).toEqual([])
    })
    it(`${sn}: a write to one table rewritten into a write to another`, async () => {
      expect(
        await diffs(
          attack({ ...st, above: rawAbove }, (p) => p.$executeRawUnsafe(`UPDATE "Group" SET name = 'g2'`), reads),
        ),
      ).toEqual([])
    })
  }
})

// 6. A computed field added after cache() that shadows a column: Prisma reads the column and computes over it in its
//    place, so a `select` answers in the selection's order; Strata sent the selection without the column.
const shadowReads: R[] = [
  ['note 3', (p) => p.note.findUnique({ where: { id: 3 } })],
  ['note 3 select', (p) => p.note.findUnique({ where: { id: 3 }, select: { id: true, rank: true, title: true } })],
  ['notes omit', (p) => p.note.findMany({ orderBy: { id: 'asc' }, omit: { title: true } })],
]
const shadow = (needs: object, compute: (n: C) => unknown) => (c: C) =>
  c.$extends({ result: { note: { rank: { needs, compute } } } })
describe('6 computed field after cache() shadowing a column', () => {
  for (const [name, above] of [
    ['constant', shadow({ id: true }, () => 0)],
    ['from itself', shadow({ rank: true }, (n) => n.rank * 10)],
    ['from another field', shadow({ title: true }, (n) => n.title.length)],
  ] as const) {
    it(`${name}: answers in Prisma's field order`, async () => {
      const write = (p: C) => p.note.update({ where: { id: 4 }, data: { title: 'q' } })
      expect(await diffs(attack({ above }, write, shadowReads))).toEqual([])
    })
  }
})

// 7. Code in a write hook added after cache() runs after the database wrote and before Strata's bump: a read there
//    was answered from the cache as it was before the write (and a count derived from it stored in the database).
const auditAbove = (c: C) =>
  c.$extends((client: C) =>
    client.$extends({
      query: {
        note: {
          async update({ args, query }: C) {
            const written = await query(args)
            const after = await client.note.findUnique({ where: { id: written.id } })
            const list = await client.note.findMany({
              where: { ownerId: 2 },
              select: { id: true },
              orderBy: { id: 'asc' },
            })
            const count = await client.note.count({ where: { ownerId: written.ownerId } })
            await client.profile.update({ where: { id: 1 }, data: { bio: `notes:${count}` } })
            return { ...written, audit: { after, list } }
          },
        },
      },
    }),
  )
describe('7 reads inside a write hook after cache()', () => {
  const auditReads: R[] = [
    ...reads,
    ['note 1', (p) => p.note.findUnique({ where: { id: 1 } })],
    ['notes of 2', (p) => p.note.findMany({ where: { ownerId: 2 }, select: { id: true }, orderBy: { id: 'asc' } })],
    ['count notes of 2', (p) => p.note.count({ where: { ownerId: 2 } })],
    ['profile 1', (p) => p.profile.findUnique({ where: { id: 1 }, select: { bio: true } })],
  ]
  for (const [sn, st] of stacks) {
    it(`${sn}: the hook reads the written row, a list and a count, and stores the count`, async () => {
      const move = (p: C) => p.note.update({ where: { id: 1 }, data: { ownerId: 2 } })
      expect(await diffs(attack({ ...st, above: auditAbove }, move, auditReads))).toEqual([])
    })
  }
})
