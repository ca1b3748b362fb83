// ADVERSARY (deterministic): query hooks below cache() (`prisma.$extends({ query }).$extends(cache())`) that run for
// one read form and not another, or for `findUnique`, which Strata's own row reads (write-through rows, a moved key's
// old value) go through. Every answer against the same stack without cache(). Each case failed once.
import { describe, expect, it } from 'vitest'
import { attack, type C, type R, type Stack } from './two-worlds.ts'

async function diffs(ds: Promise<string[]>) {
  const d = await ds
  if (d.length) console.log(d.join('\n'))
  return d
}
const nothing = () => Promise.resolve(null)
const writeThrough: Stack['cacheOptions'] = { models: { Note: { strategy: 'write-through' } } }
const hookOn = (op: string, hook: (a: { args: C; query: (a: C) => Promise<C> }) => unknown) => (c: C) =>
  c.$extends({ query: { note: { [op]: hook } } })
const masked = (r: C) =>
  Array.isArray(r) ? r.map((x: C) => ({ ...x, title: 'masked' })) : r && { ...r, title: 'masked' }
const mask = (op: string) => hookOn(op, async ({ args, query }) => masked(await query(args)))

// 1. `findUnique` and `findUniqueOrThrow` (`findFirst` and its OrThrow form) shared one entry, whichever form filled it
//    answering for both, though a hook below ran for one form only.
const forms: R[] = [
  ['findUnique', (p) => p.note.findUnique({ where: { id: 1 } })],
  ['findUniqueOrThrow', (p) => p.note.findUniqueOrThrow({ where: { id: 1 } })],
  ['findFirst', (p) => p.note.findFirst({ where: { id: 1 } })],
  ['findFirstOrThrow', (p) => p.note.findFirstOrThrow({ where: { id: 1 } })],
]
describe('1 a hook below cache() on one form of a read', () => {
  for (const op of ['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow']) {
    for (const [sn, cacheOptions] of [
      ['precise', undefined],
      ['write-through', writeThrough],
    ] as const) {
      it(`${sn}: ${op} masked, every form read in turn, before and after a write`, async () => {
        const write = (p: C) => p.note.update({ where: { id: 1 }, data: { rank: 1 } })
        expect(await diffs(attack({ below: mask(op), cacheOptions }, write, forms))).toEqual([])
      })
    }
  }
})

// 2. Write-through row entries were read through `findUnique` below cache(): what its hooks made of a row (a masked
//    field, a filter added) was kept as the row and answered unhooked reads.
const pointReads: R[] = [
  [
    'orThrow 1, unique 1',
    async (p) => [await p.note.findUniqueOrThrow({ where: { id: 1 } }), await p.note.findUnique({ where: { id: 1 } })],
  ],
  ['unique 3', (p) => p.note.findUnique({ where: { id: 3 } })],
  ['orThrow 3', (p) => p.note.findUniqueOrThrow({ where: { id: 3 } })],
]
const unpinned = hookOn('findUnique', ({ args, query }) => query({ ...args, where: { ...args.where, pinned: false } }))
describe('2 write-through rows and a findUnique hook below cache()', () => {
  for (const [name, below] of [
    ['a masked field', mask('findUnique')],
    ['a filter added', unpinned],
  ] as const) {
    it(`${name}: reads only`, async () => {
      expect(await diffs(attack({ below, cacheOptions: writeThrough }, nothing, pointReads))).toEqual([])
    })
    it(`${name}: an update, then reads`, async () => {
      const write = (p: C) => p.note.update({ where: { id: 1 }, data: { rank: 3 } })
      expect(await diffs(attack({ below, cacheOptions: writeThrough }, write, pointReads))).toEqual([])
    })
  }
})

// 3. An update that moves a foreign key reads the key's old value first, through `findUnique` below cache(): a hook
//    there that throws made the write fail (Prisma's own update never calls findUnique).
describe("3 a moved key's old value and a findUnique hook below cache()", () => {
  const reads: R[] = [
    ['notes of 1', (p) => p.note.findMany({ where: { ownerId: 1 }, orderBy: { id: 'asc' } })],
    ['note 1', (p) => p.note.findFirst({ where: { id: 1 } })],
  ]
  const move = (p: C) => p.note.update({ where: { id: 1 }, data: { ownerId: 2 } })
  it('a hook that throws', async () => {
    const below = hookOn('findUnique', () => {
      throw new Error('findUnique is disabled here')
    })
    expect(await diffs(attack({ below }, move, reads))).toEqual([])
  })
  it('a hook that adds a filter', async () => {
    const below = hookOn('findUnique', ({ args, query }) => query({ ...args, where: { ...args.where, ownerId: 2 } }))
    expect(await diffs(attack({ below }, move, reads))).toEqual([])
  })
})
