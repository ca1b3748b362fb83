import { describe, expect, it } from 'vitest'
import { readDependencies } from '../src/read/dependencies'
import { readSchemaText } from '../src/schema/schema-text'
import { affectedModels, writeEffects } from '../src/write/affected-models'
import { conservativeGraph, preciseGraph, schemaText } from './fixtures'

describe('schema text', () => {
  it('reads foreign keys, referential actions (with Prisma defaults) and @cache annotations', () => {
    const facts = readSchemaText(schemaText)
    expect(facts?.foreignKeys).toContainEqual({
      child: 'Post',
      childField: 'author',
      fields: ['authorId'],
      parent: 'User',
      references: ['id'],
      onDelete: 'SetNull',
      onUpdate: 'Cascade',
    })
    expect(facts?.foreignKeys.find((fk) => fk.child === 'Profile')?.onDelete).toBe('Cascade')
    expect(facts?.policies).toEqual({ User: { ttl: 300 }, PostStats: { dependsOn: ['Post'] }, AuditLog: false })
  })

  it('finds the implicit many-to-many join table', () => {
    expect(preciseGraph.joinTables.get('_PostToTag')).toEqual(['Post', 'Tag'])
  })

  it('reads views and the models they depend on from the schema text', () => {
    const text =
      'model A {\n  id Int @id\n}\n\n/// @cache(ttl: 30, dependsOn: ["A", "B"])\nview V {\n  id Int @unique\n}\n\nview W {\n  id Int\n}\n'
    const facts = readSchemaText(text)
    expect(facts?.views).toEqual(['V', 'W'])
    expect(facts?.policies.V).toEqual({ ttl: 30, dependsOn: ['A', 'B'] })
    expect(facts?.policies.W).toBeUndefined()
  })

  it('rejects a malformed annotation with the model and what is allowed', () => {
    const text = '/// @cache(ttl: "soon")\nmodel A {\n  id Int @id\n}\n'
    expect(() => readSchemaText(text)).toThrow(/model A.*ttl.*positive number/)
    expect(() => readSchemaText('/// @cache(tll: 3)\nmodel A {\n  id Int @id\n}\n')).toThrow(/tll.*Allowed: ttl/)
  })

  it('tells fields compared by value from those the database compares otherwise, and finds @updatedAt', () => {
    const text =
      'model A {\n  id Int @id\n  name String @db.VarChar(20)\n  nick String @db.Citext\n  code String @db.Char(4)\n  uid String @db.Uuid\n  tags String[]\n  b B @relation(fields: [bId], references: [id])\n  bId Int\n  at DateTime @updatedAt\n}\nmodel B {\n  id Int @id\n}\n'
    const keys = readSchemaText(text)?.keys.A
    expect(keys?.plain).toEqual(['id', 'name', 'bId', 'at'])
    expect(keys?.updatedAt).toEqual(['at'])
  })

  it('reads the write-through strategy and the keys it needs from the schema text alone', () => {
    const text =
      '/// @cache(ttl: 300, strategy: "write-through")\nmodel A {\n  id Int @id\n  code String @unique\n  b Int\n  c Int\n\n  @@unique([b, c], name: "pair")\n}\n'
    const facts = readSchemaText(text)
    expect(facts?.policies.A).toEqual({ ttl: 300, strategy: 'write-through' })
    expect(facts?.keys.A).toMatchObject({ id: ['id'], uniques: [['id'], ['code'], ['b', 'c']] })
    expect(() => readSchemaText('/// @cache(strategy: "write-behind")\nmodel A {\n  id Int @id\n}\n')).toThrow(
      /model A.*strategy.*"invalidate" or "write-through"/,
    )
  })
})

describe('read dependencies', () => {
  it('is the model alone for a plain read', () => {
    expect(readDependencies(preciseGraph, 'User', { where: { email: 'a' } })).toEqual(['User'])
  })

  it('follows nested include and select, and _count', () => {
    const deps = readDependencies(preciseGraph, 'User', {
      include: { posts: { include: { tags: true } }, _count: { select: { comments: true } } },
    })
    expect(deps).toEqual(['Comment', 'Post', 'Tag', 'User'])
  })

  it('follows relation filters, logical operators and relation ordering', () => {
    const deps = readDependencies(preciseGraph, 'Post', {
      where: { OR: [{ comments: { some: { author: { is: { profile: { isNot: null } } } } } }] },
      orderBy: { tags: { _count: 'desc' } },
    })
    expect(deps).toEqual(['Comment', 'Post', 'Profile', 'Tag', 'User'])
  })
})

describe('models a write changes (precise)', () => {
  it('an update of a non-key column changes its model only', () => {
    expect(affectedModels(preciseGraph, 'User', 'update', { where: { id: 1 }, data: { name: 'x' } })).toEqual(['User'])
  })

  it('a delete follows Cascade and SetNull, transitively', () => {
    // Profile, Comment, Membership cascade; Post.authorId and User.invitedById are set to null; Post's comments
    // cascade; Tag sees its join rows go only when a Post is deleted, which SetNull does not do.
    expect(affectedModels(preciseGraph, 'User', 'delete', { where: { id: 1 } })).toEqual([
      'Comment',
      'Membership',
      'Post',
      'Profile',
      'User',
    ])
    expect(affectedModels(preciseGraph, 'Post', 'deleteMany', {})).toEqual(['Comment', 'Post', 'Tag'])
  })

  it('an update of a referenced key follows onUpdate', () => {
    expect(affectedModels(preciseGraph, 'Team', 'update', { where: { id: 1 }, data: { id: 2 } })).toEqual([
      'Membership',
      'Team',
    ])
  })

  it('nested writes reach every model they name', () => {
    const touched = affectedModels(preciseGraph, 'User', 'update', {
      where: { id: 1 },
      data: {
        posts: { create: { title: 't', tags: { connectOrCreate: { where: { name: 'a' }, create: { name: 'a' } } } } },
        profile: { delete: true },
      },
    })
    expect(touched).toEqual(['Post', 'Profile', 'Tag', 'User'])
  })

  it('an m-n connect changes both sides', () => {
    expect(affectedModels(preciseGraph, 'Tag', 'update', { where: { id: 1 }, data: { posts: { set: [] } } })).toEqual([
      'Post',
      'Tag',
    ])
  })
})

describe('keys moved by relation operations follow their referential actions', () => {
  it('a connect on the side that holds the key cascades to keys referencing that column', () => {
    // Crate.boxId moves to 2; Item.crateBoxId references it with onUpdate: Cascade.
    expect(
      affectedModels(preciseGraph, 'Crate', 'update', { where: { id: 10 }, data: { box: { connect: { id: 2 } } } }),
    ).toEqual(['Box', 'Crate', 'Item'])
    expect(
      affectedModels(preciseGraph, 'Crate', 'update', {
        where: { id: 10 },
        data: { box: { create: { id: 3, label: 'c' } } },
      }),
    ).toEqual(['Box', 'Crate', 'Item'])
  })

  it('a primary key that is the foreign key: the rows referencing it follow, and the written row moves', () => {
    const effect = writeEffects(preciseGraph, 'Passport', 'update', {
      where: { personId: 1 },
      data: { person: { connect: { id: 3 } } },
    })
    expect(effect.models).toEqual(['Passport', 'Person', 'Stamp'])
    expect([...effect.rootFields]).toEqual(['personId'])
  })

  it("a connect from the other side moves the target rows' key, and what references it", () => {
    expect(
      affectedModels(preciseGraph, 'Box', 'update', { where: { id: 1 }, data: { crates: { connect: { id: 10 } } } }),
    ).toEqual(['Box', 'Crate', 'Item'])
    expect(
      affectedModels(preciseGraph, 'Person', 'update', {
        where: { id: 1 },
        data: { passport: { connect: { personId: 2 } } },
      }),
    ).toEqual(['Passport', 'Person', 'Stamp'])
  })

  it('at any depth of nested writes, and through onDelete', () => {
    const nested = affectedModels(preciseGraph, 'Box', 'update', {
      where: { id: 1 },
      data: { crates: { update: { where: { id: 10 }, data: { box: { connect: { id: 3 } } } } } },
    })
    expect(nested).toEqual(['Box', 'Crate', 'Item'])
    const upserted = affectedModels(preciseGraph, 'Person', 'upsert', {
      where: { id: 1 },
      create: { id: 1, name: 'a' },
      update: { passport: { update: { person: { connect: { id: 4 } } } } },
    })
    expect(upserted).toEqual(['Passport', 'Person', 'Stamp'])
    expect(affectedModels(preciseGraph, 'Box', 'delete', { where: { id: 1 } })).toEqual(['Box', 'Crate', 'Item'])
  })

  it('a new row links without moving any existing key', () => {
    expect(affectedModels(preciseGraph, 'Crate', 'create', { data: { id: 11, box: { connect: { id: 2 } } } })).toEqual([
      'Box',
      'Crate',
    ])
  })
})

describe('models a write changes (conservative, no foreign keys known)', () => {
  it('a delete takes every connected model', () => {
    expect(affectedModels(conservativeGraph, 'Tag', 'delete', { where: { id: 1 } })).toEqual([
      'Comment',
      'Membership',
      'Post',
      'Profile',
      'Tag',
      'Team',
      'User',
    ])
  })

  it('a key moved by a relation operation takes every model connected to the relation', () => {
    expect(
      affectedModels(conservativeGraph, 'Crate', 'update', { where: { id: 1 }, data: { box: { connect: { id: 2 } } } }),
    ).toEqual(['Box', 'Crate', 'Item'])
  })

  it('a create with no relations still changes only its model', () => {
    expect(affectedModels(conservativeGraph, 'AuditLog', 'create', { data: { action: 'x' } })).toEqual(['AuditLog'])
  })
})

describe('rows a write changes besides the one it names (write-through)', () => {
  const elsewhere = (model: string, operation: string, args: Record<string, unknown>) =>
    [...writeEffects(preciseGraph, model, operation, args).elsewhere].sort()

  it('a key held by the written row itself moves no other row', () => {
    expect(elsewhere('User', 'update', { where: { id: 1 }, data: { name: 'x' } })).toEqual([])
    expect(elsewhere('Post', 'create', { data: { title: 't', author: { connect: { id: 1 } } } })).toEqual([])
    expect(elsewhere('User', 'update', { where: { id: 5 }, data: { invitedBy: { connect: { id: 3 } } } })).toEqual([])
    // New rows are nobody else's: a nested create, even holding the key.
    expect(elsewhere('User', 'update', { where: { id: 1 }, data: { posts: { create: { title: 'n' } } } })).toEqual([])
  })

  it('a key held by the other side, nested updates and deletes, and referential actions do', () => {
    expect(elsewhere('User', 'update', { where: { id: 5 }, data: { invitees: { connect: { id: 7 } } } })).toEqual([
      'User',
    ])
    expect(elsewhere('User', 'update', { where: { id: 1 }, data: { posts: { disconnect: { id: 2 } } } })).toEqual([
      'Post',
    ])
    expect(elsewhere('User', 'update', { where: { id: 1 }, data: { profile: { update: { bio: 'b' } } } })).toEqual([
      'Profile',
    ])
    expect(elsewhere('User', 'delete', { where: { id: 1 } })).toEqual(
      expect.arrayContaining(['Comment', 'Membership', 'Post', 'Profile', 'User']),
    )
  })

  it('a many-to-many link changes the join table, not the rows', () => {
    expect(elsewhere('Post', 'update', { where: { id: 1 }, data: { tags: { connect: { id: 1 } } } })).toEqual([])
  })

  it('without foreign keys every connected model is taken', () => {
    const deleted = writeEffects(conservativeGraph, 'User', 'delete', { where: { id: 1 } }).elsewhere
    expect([...deleted].sort()).toEqual(['Comment', 'Membership', 'Post', 'Profile', 'Tag', 'Team', 'User'])
    // Even a link whose key the written row holds: which side holds it is unknown.
    const linked = writeEffects(conservativeGraph, 'Post', 'create', { data: { author: { connect: { id: 1 } } } })
    expect(linked.elsewhere.has('User')).toBe(true)
  })
})
