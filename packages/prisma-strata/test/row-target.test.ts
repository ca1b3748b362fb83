// Which point reads a write-through row entry can answer, how a row is keyed, and what a read gets from the row.
import { describe, expect, it } from 'vitest'
import { schema as generatedSchema } from '../../../generated/sqlite/strata/index.js'
import { buildModelGraph, type ModelInfo } from '../src/schema/model-graph'
import { readSchemaText, schemaFacts } from '../src/schema/schema-text'
import { idWhere, project, rowHasKey, rowIdText, rowTarget } from '../src/write-through/row-target'
import { preciseGraph, runtimeDataModel, schemaText } from './fixtures'

const model = (name: string) => preciseGraph.models.get(name) as ModelInfo
const user = model('User')

describe('keys read from the schema', () => {
  it('finds primary keys, @unique fields and compound keys, as the generator does', () => {
    const keys = readSchemaText(schemaText)?.keys
    expect(keys?.User).toMatchObject({ id: ['id'], uniques: [['id'], ['email']] })
    expect(keys?.Post).toMatchObject({ id: ['id'], uniques: [['id'], ['authorId', 'title']] })
    expect(keys?.Membership).toMatchObject({ id: ['userId', 'teamId'], uniques: [['userId', 'teamId']] })
    expect(keys?.Profile?.uniques).toEqual([['id'], ['userId']])
    expect(keys?.Post?.compound).toEqual({ authorId_title: ['authorId', 'title'] })
    expect(schemaFacts(generatedSchema).keys).toEqual(keys)
  })

  it('names a compound key as a `where` does: its `name:`, else its fields joined by `_`', () => {
    const keys = readSchemaText(
      [
        'model A {',
        '  a Int',
        '  b Int',
        '  c Int',
        '  @@id([a, b], name: "ab")',
        '  @@unique([b, c])',
        '  @@unique(fields: [a, c], name: "ac", map: "a_c_key")',
        '}',
      ].join('\n'),
    )?.keys
    expect(keys?.A?.compound).toEqual({ ab: ['a', 'b'], b_c: ['b', 'c'], ac: ['a', 'c'] })
  })
})

describe('rowTarget', () => {
  it('takes a read by id, by another unique key and by a compound key, whatever the key order', () => {
    expect(rowTarget(user, { where: { id: 5 } })).toMatchObject({ idText: 'id=5', uniqueText: undefined })
    expect(rowTarget(user, { where: { email: 'a@x' }, select: { name: true } })).toMatchObject({
      idText: undefined,
      uniqueText: 'email="a@x"',
    })
    const a = rowTarget(model('Membership'), { where: { userId_teamId: { teamId: 2, userId: 1 } } })
    expect(a?.idText).toBe('userId=1,teamId=2')
    const b = rowTarget(model('Post'), { where: { authorId_title: { title: 't', authorId: 1 } } })
    expect(b?.uniqueText).toBe('authorId=1,title="t"')
  })

  it('takes a compound key only under the name Prisma gives it (under another, Prisma rejects the read)', () => {
    const membership = model('Membership')
    for (const name of ['teamId_userId', 'anything', 'userId']) {
      expect(rowTarget(membership, { where: { [name]: { userId: 1, teamId: 2 } } }), name).toBeUndefined()
    }
    const named = { ...membership, compound: new Map([['member', ['userId', 'teamId']]]) }
    expect(rowTarget(named, { where: { member: { userId: 1, teamId: 2 } } })?.idText).toBe('userId=1,teamId=2')
    expect(rowTarget(named, { where: { userId_teamId: { userId: 1, teamId: 2 } } })).toBeUndefined()
  })

  it('reads a row back by its compound primary key under its name, and takes no compound key whose name is unknown', () => {
    const membership = model('Membership')
    expect(idWhere(membership, { userId: 1, teamId: 2, role: 'x' })).toEqual({
      userId_teamId: { userId: 1, teamId: 2 },
    })
    const named = { ...membership, compound: new Map([['member', ['userId', 'teamId']]]) }
    expect(idWhere(named, { userId: 1, teamId: 2 })).toEqual({ member: { userId: 1, teamId: 2 } })
    // A module of an older generator names no compound key: such reads are ordinary cached reads.
    const { keys } = schemaFacts(generatedSchema)
    const older = Object.fromEntries(Object.entries(keys).map(([m, { compound: _, ...rest }]) => [m, rest]))
    const graph = buildModelGraph(runtimeDataModel, undefined, older)
    const where = { userId_teamId: { userId: 1, teamId: 2 } }
    expect(rowTarget(graph.models.get('Membership') as ModelInfo, { where })).toBeUndefined()
  })

  it.each([
    ['relations selected', { where: { id: 1 }, include: { posts: true } }],
    ['a relation in select', { where: { id: 1 }, select: { posts: true } }],
    ['_count', { where: { id: 1 }, select: { _count: true } }],
    ['an extra filter', { where: { id: 1, name: 'x' } }],
    ['a filter object on the key', { where: { id: { equals: 1 } } }],
    ['a field that is not unique', { where: { name: 'x' } }],
    ['select and omit together', { where: { id: 1 }, select: { id: true }, omit: { name: true } }],
    ['a non-boolean selection', { where: { id: 1 }, select: { id: 'yes' } }],
    // Prisma rejects these: it must be Prisma that answers.
    ['an empty select', { where: { id: 1 }, select: {} }],
    ['a select of no field', { where: { id: 1 }, select: { id: false, name: false } }],
    ['an omit of every field', { where: { id: 1 }, omit: Object.fromEntries([...user.scalars].map((f) => [f, true])) }],
  ])('leaves reads with %s to ordinary entries', (_name, args) => {
    expect(rowTarget(user, args as never)).toBeUndefined()
  })

  it('keys a BigInt by value, not by the type the caller passed; never a DateTime', () => {
    const info = { ...user, types: new Map([['id', 'BigInt']]) }
    expect(rowTarget(info, { where: { id: 5 } })?.idText).toBe(rowTarget(info, { where: { id: 5n } })?.idText)
    // The database may hold microseconds the Date Prisma returns has lost: a row's value cannot say whether the
    // database would match a read's. Reads by a DateTime key are ordinary cached reads, and Prisma judges strings.
    const dated = {
      ...user,
      id: ['at'],
      uniques: [['at']],
      scalars: new Set(['at']),
      types: new Map([['at', 'DateTime']]),
    }
    const at = new Date('2026-01-02T03:04:05.000Z')
    for (const value of [at, at.toISOString(), '2026-01-02'])
      expect(rowTarget(dated, { where: { at: value } })).toBeUndefined()
    expect(rowIdText(dated, { at })).toBeUndefined()
  })
})

describe('rows', () => {
  const row = { id: 1, email: 'a@x', name: 'A', prefs: { deep: [1] }, createdAt: new Date(0) }

  it('gives each read its selection, as a copy', () => {
    expect(project(row, { select: { name: true, id: false } }, undefined)).toEqual({ name: 'A' })
    // In the order selected, as Prisma returns it.
    expect(Object.keys(project(row, { select: { name: true, id: true } }, undefined))).toEqual(['name', 'id'])
    expect(project(row, { omit: { prefs: true } }, undefined)).toEqual({
      id: 1,
      email: 'a@x',
      name: 'A',
      createdAt: new Date(0),
    })
    // The client's global omit applies unless the query says otherwise.
    expect(project(row, undefined, { email: true, name: true })).not.toHaveProperty('email')
    expect(project(row, { omit: { email: false } }, { email: true })).toHaveProperty('email', 'a@x')
    const copy = project(row, undefined, undefined)
    ;(copy.prefs as { deep: number[] }).deep.push(2)
    ;(copy.createdAt as Date).setTime(5)
    expect(row.prefs.deep).toEqual([1])
    expect(row.createdAt.getTime()).toBe(0)
  })

  it('knows its id and whether it still has the unique key a read asked for', () => {
    expect(rowIdText(user, row)).toBe('id=1')
    const byEmail = rowTarget(user, { where: { email: 'a@x' } })
    expect(byEmail && rowHasKey(user, row, byEmail)).toBe(true)
    expect(byEmail && rowHasKey(user, { ...row, email: 'b@x' }, byEmail)).toBe(false)
  })
})
