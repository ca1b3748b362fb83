// ADVERSARY (deterministic): read hooks added after cache() (`prisma.$extends(cache()).$extends({ query })`), which
// Strata runs around its read, against the same stack without cache(): what each hook is given and what its `query`
// answers must be what Prisma gives it. Each case failed once.
import { describe, expect, it } from 'vitest'
import { attack, type C, type R } from './two-worlds.ts'

async function diffs(ds: Promise<string[]>) {
  const d = await ds
  if (d.length) console.log(d.join('\n'))
  return d
}
const nothing = () => Promise.resolve(null)

// 1. Prisma gives each hook its own copy of the arguments: one that sets a filter in place (`args.where = ...`, a
//    soft-delete pattern) must not change the caller's object, which the caller may pass to its next read.
describe('1 a hook that changes its arguments in place', () => {
  const inPlace = (c: C) =>
    c.$extends({
      query: {
        note: {
          findMany({ args, query }: C) {
            args.where = { ...args.where, rank: 0 }
            return query(args)
          },
        },
      },
    })
  it("the caller's arguments stay as they were", async () => {
    const reuse: R = [
      'findMany, then count, with one arguments object',
      async (p) => {
        const q = { where: { ownerId: 1 } }
        const rows = await p.note.findMany(q)
        return [rows.length, await p.note.count(q), q]
      },
    ]
    expect(await diffs(attack({ above: inPlace }, nothing, [reuse]))).toEqual([])
  })
})

// 2. A fluent read (`note.findUnique(...).owner()`) runs the root operation's hooks, whose `query` answers with the
//    related record (Prisma follows the path in its innermost step): a hook that adds to what it got adds to that.
describe('2 fluent reads through a hook that changes its answer', () => {
  const tag = (c: C) =>
    c.$extends({
      query: {
        note: {
          async findUnique({ args, query }: C) {
            const r = await query(args)
            return r && { ...r, tagged: 'yes' }
          },
        },
        account: {
          async findUniqueOrThrow({ args, query }: C) {
            const r = await query(args)
            return Array.isArray(r) ? r.map((x: C) => ({ ...x, seen: true })) : { ...r, seen: true }
          },
        },
      },
    })
  const catcher = (c: C) =>
    c.$extends({
      query: {
        $allModels: {
          async $allOperations({ args, query }: C) {
            try {
              return await query(args)
            } catch (e) {
              return { caught: (e as { code?: string }).code ?? null }
            }
          },
        },
      },
    })
  it('a record added to', async () => {
    const r: R[] = [
      ['owner', (p) => p.note.findUnique({ where: { id: 1 } }).owner({ select: { handle: true } })],
      ['notes', (p) => p.account.findUniqueOrThrow({ where: { id: 2 } }).notes({ select: { id: true } })],
      ['plain', (p) => p.note.findUnique({ where: { id: 1 }, select: { id: true } })],
    ]
    expect(await diffs(attack({ above: tag }, nothing, r))).toEqual([])
  })
  it('a not-found error caught', async () => {
    const r: R[] = [['owner of no note', (p) => p.note.findUniqueOrThrow({ where: { id: 99 } }).owner()]]
    expect(await diffs(attack({ above: catcher }, nothing, r))).toEqual([])
  })
})

// 3. Prisma adds computed fields after every hook, to what the hooks answer (with the caller's `select`/`omit`): a
//    hook sees rows without them, with the stored fields they need, and what it changes is what they compute from.
describe('3 computed fields and a hook that changes its answer', () => {
  const slug = (c: C) =>
    c.$extends({ result: { note: { slug: { needs: { id: true }, compute: (n: C) => `note-${n.id}` } } } })
  const label = (c: C) =>
    c.$extends({ result: { note: { label: { needs: { title: true }, compute: (n: C) => `L:${n.title}` } } } })
  const hook = (change: (row: C) => C) => (c: C) =>
    c.$extends({
      query: {
        note: {
          async $allOperations({ args, query }: C) {
            const r = await query(args)
            if (Array.isArray(r)) return r.map(change)
            return r && typeof r === 'object' ? change(r) : r
          },
        },
        account: {
          async findUnique({ args, query }: C) {
            const r = await query(args)
            return r && { ...r, seen: Object.keys(r).sort().join(',') }
          },
        },
      },
    })
  const upper = hook((r) => ('title' in r ? { ...r, title: String(r.title).toUpperCase() } : r))
  const dto = hook((r) => ({ id: r.id, title: r.title, keys: Object.keys(r).sort().join(',') }))
  const reads: R[] = [
    ['findUnique', (p) => p.note.findUnique({ where: { id: 1 } })],
    ['findMany', (p) => p.note.findMany({ where: { ownerId: 1 }, orderBy: { id: 'asc' } })],
    [
      'select the computed field only',
      (p) => p.note.findFirst({ where: { id: 2 }, select: { slug: true, label: true } }),
    ],
    ['omit a field it needs', (p) => p.note.findFirst({ where: { id: 2 }, omit: { title: true } })],
    ['fluent', (p) => p.account.findUnique({ where: { id: 1 } }).notes({ orderBy: { id: 'asc' } })],
    ['include', (p) => p.account.findUnique({ where: { id: 1 }, include: { notes: { orderBy: { id: 'asc' } } } })],
    ['count', (p) => p.note.count({ where: { ownerId: 1 } })],
    ['batch', (p) => p.$transaction([p.note.findUnique({ where: { id: 1 } }), p.note.findMany({ where: { id: 2 } })])],
  ]
  const stacks: Array<[string, (c: C) => C, ((c: C) => C) | undefined]> = [
    ['computed after cache(), a hook that changes a field', (c) => upper(label(slug(c))), undefined],
    ['computed after cache(), a hook that maps rows to new objects', (c) => dto(label(slug(c))), undefined],
    ['computed below cache(), a hook that changes a field', upper, (c) => label(slug(c))],
    ['computed below cache(), a hook that maps rows to new objects', dto, (c) => label(slug(c))],
  ]
  for (const [name, above, below] of stacks) {
    it(name, async () => {
      const write = (p: C) => p.note.update({ where: { id: 2 }, data: { title: 'y' } })
      expect(await diffs(attack({ above, below }, write, reads))).toEqual([])
    })
  }
})
