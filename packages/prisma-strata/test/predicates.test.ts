// Which reads depend on predicates (precise invalidation), and which on whole models: the read side's derivation.
import { describe, expect, it } from 'vitest'
import type { Args } from '../src/args'
import { readFootprint, valueText } from '../src/read/predicates'
import { buildModelGraph } from '../src/schema/model-graph'
import { preciseGraph } from './fixtures'

const every = () => true
const footprint = (model: string, args: Args | undefined, precise: (m: string) => boolean = every) => {
  const { models, predicates } = readFootprint(preciseGraph, model, args, precise)
  return { models: [...models].sort(), predicates }
}

describe('predicates of a read', () => {
  it('takes the equalities a where implies, leaving the other conditions out', () => {
    expect(footprint('Post', { where: { authorId: 5, views: { gt: 10 }, title: { contains: 'x' } } })).toEqual({
      models: [],
      predicates: [{ model: 'Post', fields: ['authorId'], tuples: [['i5']] }],
    })
    expect(
      footprint('Post', { where: { AND: [{ authorId: { equals: 5 } }, { published: true }] } }).predicates,
    ).toEqual([{ model: 'Post', fields: ['authorId', 'published'], tuples: [['i5', 'b1']] }])
    // A compound unique key pins each of its fields.
    expect(footprint('Post', { where: { authorId_title: { authorId: 1, title: 't' } } }).predicates).toEqual([
      { model: 'Post', fields: ['authorId', 'title'], tuples: [['i1', 'st']] },
    ])
  })

  it('takes `in` lists and OR of equalities as several predicates, and a contradiction as none', () => {
    expect(footprint('Post', { where: { id: { in: [1, 2, 2] } } }).predicates).toEqual([
      { model: 'Post', fields: ['id'], tuples: [['i1'], ['i2']] },
    ])
    expect(footprint('Post', { where: { OR: [{ id: 1 }, { authorId: 2 }] } }).predicates).toEqual([
      { model: 'Post', fields: ['id'], tuples: [['i1']] },
      { model: 'Post', fields: ['authorId'], tuples: [['i2']] },
    ])
    expect(footprint('Post', { where: { AND: [{ id: 1 }, { id: 2 }] } })).toEqual({ models: ['Post'], predicates: [] })
  })

  it('reads the model whole without an equality: NOT, ranges, insensitive mode, an OR with one open disjunct, cursor', () => {
    for (const where of [
      { NOT: { authorId: 1 } },
      { views: { gt: 1 } },
      { title: { equals: 'x', mode: 'insensitive' } },
      { OR: [{ id: 1 }, { views: { gt: 2 } }] },
      {},
    ]) {
      expect(footprint('Post', { where }), JSON.stringify(where)).toEqual({ models: ['Post'], predicates: [] })
    }
    expect(footprint('Post', { where: { id: 1 }, cursor: { id: 1 } }).predicates).toEqual([])
    // NOT next to an equality: the equality is still implied, the NOT is left out.
    expect(footprint('Post', { where: { id: 3, NOT: { authorId: 1 } } }).predicates).toEqual([
      { model: 'Post', fields: ['id'], tuples: [['i3']] },
    ])
  })

  it('loads a relation by predicate when the parent pins its key, and reads it whole otherwise', () => {
    const user = footprint('User', {
      where: { id: 5 },
      include: { posts: { where: { published: true } }, _count: true },
    })
    expect(user.predicates).toEqual(
      expect.arrayContaining([
        { model: 'User', fields: ['id'], tuples: [['i5']] },
        { model: 'Post', fields: ['authorId', 'published'], tuples: [['i5', 'b1']] },
        // `_count: true` counts every list relation: those keyed to the user by predicate, by membership only.
        { model: 'Post', fields: ['authorId'], tuples: [['i5']], members: true },
        { model: 'Comment', fields: ['authorId'], tuples: [['i5']], members: true },
        { model: 'User', fields: ['invitedById'], tuples: [['i5']], members: true },
      ]),
    )
    // The author of a post is known only after the SQL; a relation filter reads its model whole.
    expect(footprint('Post', { where: { id: 7 }, include: { author: true } }).models).toEqual(['User'])
    expect(footprint('Post', { where: { id: 7, author: { name: 'a' } } }).models).toEqual(['User'])
    // A cursor may name another parent's row, whose order values place the page: the load is read whole.
    for (const selection of ['include', 'select'] as const) {
      const read = footprint('User', {
        where: { id: 5 },
        [selection]: { posts: { cursor: { id: 3 }, orderBy: { id: 'asc' } } },
      })
      expect(read.models, selection).toEqual(['Post'])
      expect(read.predicates, selection).toEqual([{ model: 'User', fields: ['id'], tuples: [['i5']] }])
    }
    // A relation filter or ordering that leads back to the read's own model reads other rows of it: that model whole
    // too, at the root and in a relation load.
    expect(footprint('User', { where: { id: 5, invitedBy: { name: 'a' } } }).models).toEqual(['User'])
    expect(footprint('User', { where: { id: 5 }, orderBy: { invitedBy: { name: 'asc' } } }).models).toEqual(['User'])
    expect(footprint('Post', { where: { authorId: 5, author: { posts: { some: { views: 1 } } } } }).models).toEqual([
      'Post',
      'User',
    ])
    const loaded = footprint('User', {
      where: { id: 5 },
      include: { posts: { where: { author: { posts: { none: {} } } } } },
    })
    expect(loaded.models).toEqual(['Post', 'User'])
    const counted = footprint('User', {
      where: { id: 5 },
      select: { _count: { select: { invitees: { where: { invitedBy: { name: 'a' } } } } } },
    })
    expect(counted.models).toEqual(['User'])
    // A parent read whole loads its relations whole.
    expect(footprint('User', { where: { name: { contains: 'a' } }, include: { posts: true } }).models).toEqual([
      'Post',
      'User',
    ])
    // A parent predicate that does not pin the key the relation joins on loads it whole.
    expect(footprint('User', { where: { name: 'a' }, include: { posts: true } }).models).toEqual(['Post'])
  })

  it('a count over exactly a predicate depends on its membership; a count with any other condition on its rows', () => {
    const count = (model: string, args: Args | undefined) =>
      readFootprint(preciseGraph, model, args, every, 'count').predicates
    const post = (fields: string[], tuples: string[][]) => ({ model: 'Post', fields, tuples })
    expect(count('Post', { where: { authorId: 5 } })).toEqual([{ ...post(['authorId'], [['i5']]), members: true }])
    expect(count('Post', { where: { AND: [{ authorId: { in: [1, 2] } }, { published: true }] } })).toEqual([
      {
        ...post(
          ['authorId', 'published'],
          [
            ['i1', 'b1'],
            ['i2', 'b1'],
          ],
        ),
        members: true,
      },
    ])
    expect(count('Post', { where: { authorId: 5 }, select: { _all: true } })[0]?.members).toBe(true)
    // A range or a `contains` changes with the rows' contents; so does a count of one field's non-null values.
    expect(count('Post', { where: { authorId: 5, views: { gt: 1 } } })).toEqual([post(['authorId'], [['i5']])])
    expect(count('Post', { where: { authorId: 5, title: { contains: 'a' } } })).toEqual([post(['authorId'], [['i5']])])
    expect(count('Post', { where: { authorId: 5 }, select: { title: true } })).toEqual([post(['authorId'], [['i5']])])
    // An OR, and a read of rows (not a count), depend on the rows.
    expect(count('Post', { where: { OR: [{ authorId: 5 }] } })).toEqual([post(['authorId'], [['i5']])])
    expect(footprint('Post', { where: { authorId: 5 } }).predicates).toEqual([post(['authorId'], [['i5']])])
    // A relation `_count` filtered by anything but equalities depends on the rows it counts.
    const user = (where: Args) =>
      footprint('User', { where: { id: 5 }, select: { _count: { select: { posts: { where } } } } }).predicates
    expect(user({ published: true })).toContainEqual({
      ...post(['authorId', 'published'], [['i5', 'b1']]),
      members: true,
    })
    expect(user({ views: { gt: 1 } })).toContainEqual(post(['authorId'], [['i5']]))
  })

  it('reads a model whole when it does not follow rows, and does not take a column compared otherwise', () => {
    expect(footprint('Post', { where: { id: 1 } }, (m) => m !== 'Post')).toEqual({ models: ['Post'], predicates: [] })
    // Float, DateTime, Decimal: not exact.
    expect(footprint('Post', { where: { rating: 1.5 } }).predicates).toEqual([])
    // On MySQL strings compare without case: a text column is not exact there.
    const mysql = buildModelGraph(
      {
        models: {
          A: {
            fields: [
              { name: 'id', kind: 'scalar', type: 'Int' },
              { name: 's', kind: 'scalar', type: 'String' },
            ],
          },
        },
      },
      [],
      { A: { id: ['id'], uniques: [['id']], plain: ['id', 's'] } },
      false,
    )
    expect([...(mysql.models.get('A')?.exact ?? [])]).toEqual(['id'])
  })

  it('encodes a value alike whatever its JavaScript type, and refuses one not of the column type', () => {
    expect(valueText('Int', 5)).toBe(valueText('Int', 5n))
    expect(valueText('BigInt', 5)).toBe(valueText('BigInt', 5n))
    expect(valueText('Int', 5.5)).toBeUndefined()
    expect(valueText('String', 5)).toBeUndefined()
    expect(valueText('String', 'i5')).not.toBe(valueText('Int', 5))
    expect(valueText('Boolean', null)).toBe('n')
  })
})

describe('lists whose rows are named by key (fine list entries)', () => {
  const listed = (model: string, args: Args, operation = 'findMany') =>
    readFootprint(preciseGraph, model, args, every, operation).rows

  it('takes a list of exactly one predicate ordered by the whole primary key', () => {
    const rows = listed('Post', { where: { authorId: 5 }, orderBy: { id: 'desc' }, take: 20 })
    expect(rows).toEqual({
      predicate: { model: 'Post', fields: ['authorId'], tuples: [['i5']] },
      key: ['id'],
      skips: false,
    })
    // A list that skips rows sees rows leave before its window (it depends on membership, not only arrivals).
    expect(listed('Post', { where: { authorId: 5, published: true }, orderBy: [{ id: 'asc' }], skip: 2 })).toEqual({
      predicate: { model: 'Post', fields: ['authorId', 'published'], tuples: [['i5', 'b1']] },
      key: ['id'],
      skips: true,
    })
    expect(listed('Post', { where: { authorId: 5 }, orderBy: { id: 'asc' }, skip: 0 })?.skips).toBe(false)
    expect(listed('Post', { where: { authorId: { in: [1, 2] } }, orderBy: { id: 'asc' } }, 'findFirst')).toBeDefined()
    expect(
      listed('Post', { where: { authorId: 5 }, orderBy: { id: 'asc' }, select: { id: true, title: true } }),
    ).toBeDefined()
  })

  it('refuses any list whose answer another change of a row it does not show could move', () => {
    const refused: Array<[string, Args, string?]> = [
      ['no order (a database may return rows in another order after an update)', { where: { authorId: 5 } }],
      ['ordered by another field', { where: { authorId: 5 }, orderBy: { views: 'desc' } }],
      ['ordered by the key and another field', { where: { authorId: 5 }, orderBy: [{ views: 'desc' }, { id: 'asc' }] }],
      ['a condition beyond the predicate', { where: { authorId: 5, views: { gt: 1 } }, orderBy: { id: 'asc' } }],
      ['NOT', { where: { authorId: 5, NOT: { title: 'x' } }, orderBy: { id: 'asc' } }],
      ['a relation filter', { where: { authorId: 5, author: { name: 'a' } }, orderBy: { id: 'asc' } }],
      ['OR', { where: { OR: [{ authorId: 5 }, { authorId: 6 }] }, orderBy: { id: 'asc' } }],
      ['distinct', { where: { authorId: 5 }, orderBy: { id: 'asc' }, distinct: ['title'] }],
      ['cursor', { where: { authorId: 5 }, orderBy: { id: 'asc' }, cursor: { id: 3 } }],
      ['the key not selected', { where: { authorId: 5 }, orderBy: { id: 'asc' }, select: { title: true } }],
      ['the key omitted', { where: { authorId: 5 }, orderBy: { id: 'asc' }, omit: { id: true } }],
      ['the predicate is the key', { where: { id: 5 }, orderBy: { id: 'asc' } }],
      ['a count', { where: { authorId: 5 }, orderBy: { id: 'asc' } }, 'count'],
      ['an aggregate', { where: { authorId: 5 }, orderBy: { id: 'asc' } }, 'aggregate'],
      ['a point read', { where: { id: 5 } }, 'findUnique'],
    ]
    for (const [why, args, operation] of refused) expect(listed('Post', args, operation), why).toBeUndefined()
  })
})
