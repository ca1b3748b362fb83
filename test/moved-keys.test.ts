// A foreign key moved by a relation operation (connect, disconnect, a nested create on the side that holds it) is
// a change of its columns like `data: { boxId }`: keys that reference those columns follow their onUpdate action in
// the database, and the cache must follow them too. Crate.boxId is referenced by Item.crateBoxId (Cascade);
// Passport's primary key is its foreign key to Person, referenced by Stamp.passportId (Cascade).
import { beforeEach, describe, expect, it } from 'vitest'
import { schema } from '../generated/sqlite/strata/index.js'
import { casePerTest } from './support/case-per-test.ts'
import { type Case, matrix, type RawClient, type Setup } from './support/matrix.ts'

const writeThrough = { strategy: 'write-through' } as const
const cases = [
  ...matrix.map((c) => ({ ...c, source: 'schema text' })),
  ...[matrix[1], matrix[2]].map((c) => ({ ...(c as Case), source: 'write-through' })),
]
const optionsOf = (source: string) =>
  source === 'write-through'
    ? {
        schema,
        models: Object.fromEntries(
          ['Box', 'Crate', 'Item', 'Person', 'Passport', 'Stamp'].map((m) => [m, writeThrough]),
        ),
      }
    : {}

describe.each(cases)('keys moved by relation operations: $provider / $tiers / $source', (c) => {
  const scene = casePerTest(c, optionsOf(c.source))
  let s: Setup
  beforeEach(async () => {
    s = scene.s
    for (const id of [1, 2, 3]) await s.raw.box.create({ data: { id, label: `b${id}` } })
    await s.raw.crate.create({
      data: {
        id: 10,
        boxId: 1,
        items: {
          create: [
            { id: 100, name: 'i' },
            { id: 101, name: 'j' },
          ],
        },
      },
    })
    for (const id of [1, 2, 3, 4]) await s.raw.person.create({ data: { id, name: `p${id}` } })
    await s.raw.passport.create({ data: { personId: 1, number: 'n1', stamps: { create: [{ id: 1, country: 'fr' }] } } })
    await s.raw.passport.create({ data: { personId: 2, number: 'n2' } })
  })

  const reads = (p: RawClient) =>
    Promise.all([
      p.item.findMany({ orderBy: { id: 'asc' } }),
      p.item.findMany({ where: { crateBoxId: 1 }, select: { id: true } }),
      p.item.findUnique({ where: { id: 101 } }),
      p.stamp.findMany({ orderBy: { id: 'asc' } }),
      p.passport.findUnique({ where: { personId: 1 } }),
      p.passport.findUnique({ where: { personId: 3 } }),
      p.passport.findMany({ orderBy: { personId: 'asc' }, include: { stamps: true } }),
      p.crate.findUnique({ where: { boxId: 2 } }),
      p.box.findMany({ orderBy: { id: 'asc' }, include: { crates: { include: { items: true } } } }),
    ])

  const writes: Array<[string, (p: Setup['prisma']) => Promise<unknown>]> = [
    [
      'connect on the side that holds the key',
      (p) => p.crate.update({ where: { id: 10 }, data: { box: { connect: { id: 2 } } } }),
    ],
    [
      'nested create on the side that holds the key',
      (p) => p.crate.update({ where: { id: 10 }, data: { box: { create: { id: 4, label: 'b4' } } } }),
    ],
    [
      'connect from the other side',
      (p) => p.box.update({ where: { id: 3 }, data: { crates: { connect: { id: 10 } } } }),
    ],
    [
      'a primary key that is the foreign key',
      (p) => p.passport.update({ where: { personId: 1 }, data: { person: { connect: { id: 3 } } } }),
    ],
    [
      'connect of the row whose primary key is the foreign key',
      (p) => p.person.update({ where: { id: 4 }, data: { passport: { connect: { personId: 1 } } } }),
    ],
    [
      // Item 101 moves too: write-through must not keep its row.
      'two levels deep',
      (p) => p.item.update({ where: { id: 100 }, data: { crate: { update: { box: { connect: { id: 3 } } } } } }),
    ],
  ]

  it.each(writes)('%s', async (_name, write) => {
    const cached = s.prisma as unknown as RawClient
    expect(await reads(cached)).toEqual(await reads(s.raw)) // fills the cache
    await write(s.prisma)
    expect(await reads(cached)).toEqual(await reads(s.raw))
  })
})
