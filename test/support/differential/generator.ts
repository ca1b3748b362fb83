// Random sequences of steps over prisma/models.prisma. The id space is small (8 users, 12 posts, 12 comments,
// 5 tags, 3 teams) so that writes and reads keep colliding, and reads come from a fixed set of query shapes with few
// parameters, repeated, so that the cache answers many of them. Every write form is here: create, createMany,
// createManyAndReturn, update, updateMany, updateManyAndReturn, upsert, delete, deleteMany, nested writes of every
// kind, raw SQL in three forms, interactive transactions (committed, rolled back, nested) and batches.
//
// Writes are aimed at the cache's weak spot: a write is often preceded by a "probe" read that depends on what it
// changes only through a relation (filled before, read again after), and often followed by a check of everything
// read lately plus every table (the previous check filled them all: any bump Strata missed shows at once).
//
// Inside transactions, creates always carry their ids and timestamps: the runner replays a transaction on the oracle
// (rolled back) before running it for real, and both runs must produce the same rows.
import type { Provider } from '../../../prisma/database.ts'
import { KeyMoves } from './key-moves.ts'
import { Rng } from './random.ts'
import { formsOf, type StatementName, statements, statementsFor } from './raw-sql.ts'
import { readModels, stepModels } from './schema-map.ts'
import {
  type BatchItem,
  bigint,
  bytes,
  date,
  decimal,
  type Json,
  type JsonObject,
  nullValue,
  type RawSpec,
  type ReadSpec,
  type Step,
  type TxItem,
  type WriteSpec,
} from './steps.ts'

export interface GeneratorOptions {
  provider: Provider
  /** How many steps to generate (check reads after writes included). */
  steps: number
}

/** The size of the id spaces: reads and writes pick ids in these ranges. */
export const space = { users: 8, posts: 12, comments: 12, tags: 5, teams: 3, profiles: 8, audits: 5 } as const

const names: Json[] = ['ann', 'bob', 'cy', 'dee', null]
const roles = ['USER', 'ADMIN'] as const
const decimals = [
  '0',
  '1.5',
  '-2.25',
  '100.125',
  '0.001',
  '99999999999.99',
  '-0.000000001',
  '12345678901234567.123456789',
]
const bigints = ['0', '7', '-5', '4294967296', '9007199254740993', '9223372036854775807', '-9223372036854775808']
const byteValues = [[], [0], [1, 2, 3], [255, 0, 128, 7]]
const dates = [
  '2020-01-01T00:00:00.000Z',
  '2024-02-29T12:34:56.789Z',
  '1999-12-31T23:59:59.999Z',
  '1969-07-20T20:17:40.001Z',
  '2262-04-11T23:47:16.854Z',
]
const jsonValues: Json[] = [
  { a: 1 },
  [1, 'two', null, true],
  'str',
  42,
  { nested: { deep: [1.5, { x: null }] }, big: 3000000000 },
  { emoji: 'é✓', list: [] },
  { huge: 1e21, past53: 2 ** 53 + 4, tiny: -0.000001, nested: [[[]]] },
  [],
  { '': 'empty key', 'with space': null },
]
const titles = ['alpha', 'beta', 'gamma']
const bios = ['hi', 'yo', 'hey']
const bodies = ['x', 'nice', 'meh']
const memberRoles = ['owner', 'member', 'guest']
const teamNames = ['red', 'green', 'blue']

/** An array literal of differently shaped objects, typed as JSON (TypeScript would infer a union otherwise). */
const list = (...items: Json[]): Json[] => items

interface Ctx {
  /** Inside a transaction: every create carries ids and timestamps. */
  tx: boolean
}

class Generator {
  private readonly recent: ReadSpec[] = []
  /** Weight of the *AndReturn writes: Prisma offers them only where the database has RETURNING (not on MySQL). */
  private readonly returning: number

  /** Models whose keys relation operations move (Box/Crate/Item, Person/Passport/Stamp). */
  private readonly keys: KeyMoves

  constructor(
    private readonly r: Rng,
    private readonly provider: Provider,
  ) {
    this.keys = new KeyMoves(r)
    this.returning = provider === 'mysql' ? 0 : 1
  }

  // -------------------------------------------------------------------------------------------------------------
  // Ids and values.

  user = () => this.r.int(1, space.users)
  post = () => this.r.int(1, space.posts)
  comment = () => this.r.int(1, space.comments)
  tag = () => this.r.int(1, space.tags)
  team = () => this.r.int(1, space.teams)
  profile = () => this.r.int(1, space.profiles)
  email = (id?: number) => `u${id !== undefined && this.r.chance(0.8) ? id : this.r.int(1, space.users + 2)}@x.io`
  tagName = (id?: number) => `t${id !== undefined && this.r.chance(0.8) ? id : this.tag()}`
  teamName = (id?: number) => teamNames[(id !== undefined && this.r.chance(0.8) ? id : this.team()) - 1] as string
  decimal = () => decimal(this.r.pick(decimals))
  bigint = () => bigint(this.r.pick(bigints))
  users = (max = 3) => this.r.distinctInts(this.r.int(1, max), 1, space.users)
  posts = (max = 3) => this.r.distinctInts(this.r.int(1, max), 1, space.posts)
  tags = (max = 3) => this.r.distinctInts(this.r.int(1, max), 1, space.tags)
  ids = (list: number[]) => list.map((id) => ({ id }))
  /** `a` with probability `p`, else `b` (both built: the sequence of random draws stays simple). */
  either = (p: number, a: Json, b: Json): Json => (this.r.chance(p) ? a : b)

  /** Adds to `data` a random subset of `relations`, each built only when chosen. */
  private addRelations(data: JsonObject, relations: Record<string, () => Json>, p: number): void {
    for (const key of Object.keys(this.r.subset(relations, p, false))) data[key] = (relations[key] as () => Json)()
  }

  /** An id for a create: always inside a transaction, mostly outside (autoincrement otherwise). */
  private withId(ctx: Ctx, id: number, data: JsonObject): JsonObject {
    return ctx.tx || this.r.chance(0.75) ? { id, ...data } : data
  }

  /**
   * Points `data` at its parent row. Prisma takes an explicit autoincrement `id` only in its "unchecked" input,
   * where the parent is given by its scalar key (`authorId`); without an id the relation form (`author: {...}`)
   * is used too.
   */
  private parent(data: JsonObject, scalar: string, scalarValue: Json, relation: string, relationValue: () => Json) {
    if ('id' in data || this.r.chance(0.3)) data[scalar] = scalarValue
    else data[relation] = relationValue()
    return data
  }

  // -------------------------------------------------------------------------------------------------------------
  // Create data.

  userScalars(): JsonObject {
    return this.r.subset(
      {
        name: this.r.pick(names),
        role: this.r.pick(roles),
        balance: this.decimal(),
        karma: this.bigint(),
        avatar: bytes(this.r.pick(byteValues)),
        prefs: this.r.pick(jsonValues),
      },
      0.45,
      false,
    )
  }

  userCreate(ctx: Ctx, depth = 0): JsonObject {
    const id = this.user()
    const data: JsonObject = this.withId(ctx, id, { email: this.email(id), ...this.userScalars() })
    if (ctx.tx || this.r.chance(0.4)) data.createdAt = date(this.r.pick(dates))
    if (depth > 0) return data
    if (this.r.chance(0.3)) {
      this.parent(data, 'invitedById', this.user(), 'invitedBy', () =>
        this.either(
          0.6,
          { connect: { id: this.user() } },
          { connectOrCreate: { where: { id: this.user() }, create: this.userCreate(ctx, 1) } },
        ),
      )
    }
    const relations: Record<string, () => Json> = {
      profile: () => ({ create: this.withId(ctx, this.profile(), { bio: this.r.pick(bios) }) }),
      posts: () =>
        this.r.weighted<Json>([
          [3, { create: [this.postBase(ctx)] }],
          [2, { createMany: { data: [this.postBase(ctx, true), this.postBase(ctx, true)] } }],
          [2, { connect: this.ids(this.posts(2)) }],
          [2, { connectOrCreate: [{ where: { id: this.post() }, create: this.postBase(ctx, true) }] }],
        ]),
      memberships: () => ({
        create: [
          this.either(
            0.5,
            { role: this.r.pick(memberRoles), teamId: this.team() },
            {
              role: this.r.pick(memberRoles),
              team: { connectOrCreate: { where: { id: this.team() }, create: this.teamBase(ctx) } },
            },
          ),
        ],
      }),
      comments: () => ({
        create: [
          this.parent(
            this.withId(ctx, this.comment(), { body: this.r.pick(bodies) }),
            'postId',
            this.post(),
            'post',
            () => ({
              connect: { id: this.post() },
            }),
          ),
        ],
      }),
      invitees: () => ({ connect: this.ids(this.users(2)) }),
    }
    this.addRelations(data, relations, 0.2)
    return data
  }

  /** A post without its author; `flat` leaves out nested writes (createMany, connectOrCreate's create). */
  postBase(ctx: Ctx, flat = false): JsonObject {
    const data = this.withId(ctx, this.post(), {
      title: this.r.pick(titles),
      ...this.r.subset({ published: this.r.chance(0.5), views: this.r.int(0, 6) }, 0.6, false),
    })
    if (flat) return data
    if (this.r.chance(0.4)) {
      data.tags = this.r.weighted<Json>([
        [2, { connect: this.ids(this.tags(2)) }],
        [2, { connectOrCreate: [this.tagConnectOrCreate(ctx)] }],
        [1, { create: [this.tagBase(ctx)] }],
      ])
    }
    if (this.r.chance(0.3)) {
      data.comments = { create: [this.commentOfPost(ctx)] }
    }
    return data
  }

  /** A comment created through its post (`post.comments.create`). */
  commentOfPost(ctx: Ctx): JsonObject {
    const data = this.withId(ctx, this.comment(), { body: this.r.pick(bodies) })
    return this.parent(data, 'authorId', this.user(), 'author', () => ({ connect: { id: this.user() } }))
  }

  postCreate(ctx: Ctx): JsonObject {
    const data = this.postBase(ctx)
    if (this.r.chance(0.1)) return data
    return this.parent(data, 'authorId', this.user(), 'author', () =>
      this.r.weighted<Json>([
        [4, { connect: { id: this.user() } }],
        [2, { connectOrCreate: { where: { id: this.user() }, create: this.userCreate(ctx, 1) } }],
        [1, { create: this.userCreate(ctx, 1) }],
      ]),
    )
  }

  tagBase(ctx: Ctx): JsonObject {
    const id = this.tag()
    return this.withId(ctx, id, { name: this.tagName(id) })
  }

  tagConnectOrCreate(ctx: Ctx): JsonObject {
    const create = this.tagBase(ctx)
    return { where: { name: create.name as string }, create }
  }

  teamBase(ctx: Ctx): JsonObject {
    const id = this.team()
    return this.withId(ctx, id, { name: this.teamName(id) })
  }

  commentCreate(ctx: Ctx): JsonObject {
    const data = this.withId(ctx, this.comment(), { body: this.r.pick(bodies) })
    if ('id' in data || this.r.chance(0.3)) return { ...data, postId: this.post(), authorId: this.user() }
    return {
      ...data,
      post: this.either(
        0.8,
        { connect: { id: this.post() } },
        { create: { ...this.postBase(ctx, true), authorId: this.user() } },
      ),
      author: { connect: { id: this.user() } },
    }
  }

  membershipCreate(ctx: Ctx): JsonObject {
    if (this.r.chance(0.5)) return { userId: this.user(), teamId: this.team(), role: this.r.pick(memberRoles) }
    return {
      role: this.r.pick(memberRoles),
      user: { connect: { id: this.user() } },
      team: this.r.chance(0.5)
        ? { connect: { id: this.team() } }
        : { connectOrCreate: { where: { id: this.team() }, create: this.teamBase(ctx) } },
    }
  }

  profileCreate(ctx: Ctx): JsonObject {
    const data = this.withId(ctx, this.profile(), { bio: this.r.pick(bios) })
    return this.parent(data, 'userId', this.user(), 'user', () => ({ connect: { id: this.user() } }))
  }

  // -------------------------------------------------------------------------------------------------------------
  // Update data.

  userUpdate(ctx: Ctx, self: number): JsonObject {
    const data: JsonObject = this.r.subset(
      {
        name: this.r.pick(names),
        role: this.r.pick(roles),
        balance: this.r.pick<Json>([
          this.decimal(),
          { increment: this.decimal() },
          { decrement: this.decimal() },
          { multiply: decimal('2') },
        ]),
        karma: this.r.pick<Json>([this.bigint(), { increment: this.bigint() }, { decrement: bigint('3') }]),
        avatar: this.r.chance(0.7) ? bytes(this.r.pick(byteValues)) : null,
        prefs: this.r.chance(0.7) ? this.r.pick(jsonValues) : nullValue(this.r.pick(['DbNull', 'JsonNull'] as const)),
        createdAt: date(this.r.pick(dates)),
        email: this.email(),
      },
      0.3,
      false,
    )
    const relations: Record<string, () => Json> = {
      invitedBy: () =>
        this.r.weighted<Json>([
          [4, { connect: { id: this.user() } }],
          [3, { disconnect: true }],
          [2, { update: { name: this.r.pick(names) } }],
          [1, { connectOrCreate: { where: { id: this.user() }, create: this.userCreate(ctx, 1) } }],
          [1, { upsert: { create: this.userCreate(ctx, 1), update: { karma: { increment: this.bigint() } } } }],
          [1, { delete: true }],
        ]),
      profile: () =>
        this.r.weighted<Json>([
          [
            3,
            {
              upsert: {
                create: this.withId(ctx, this.profile(), { bio: this.r.pick(bios) }),
                update: { bio: this.r.pick(bios) },
              },
            },
          ],
          [2, { update: { bio: this.r.pick(bios) } }],
          [2, { delete: true }],
          [1, { create: this.withId(ctx, this.profile(), { bio: this.r.pick(bios) }) }],
        ]),
      posts: () =>
        this.r.weighted<Json>([
          [2, { create: [this.postBase(ctx)] }],
          [1, { createMany: { data: [this.postBase(ctx, true)] } }],
          [2, { connect: this.ids(this.posts(2)) }],
          [1, { connectOrCreate: [{ where: { id: this.post() }, create: this.postBase(ctx, true) }] }],
          [2, { disconnect: this.ids(this.posts(2)) }],
          [2, { set: this.ids(this.r.chance(0.2) ? [] : this.posts(3)) }],
          [
            2,
            { update: [{ where: { id: this.post() }, data: { views: { increment: 1 }, title: this.r.pick(titles) } }] },
          ],
          [
            2,
            {
              updateMany: [
                { where: { published: this.r.chance(0.5) }, data: { published: this.r.chance(0.5), views: 0 } },
              ],
            },
          ],
          [2, { delete: this.ids(this.posts(1)) }],
          [2, { deleteMany: this.r.chance(0.5) ? [{ views: { lt: 3 } }] : {} }],
          [
            2,
            {
              upsert: [
                {
                  where: { id: this.post() },
                  create: this.postBase(ctx, true),
                  update: { views: { increment: 2 } },
                },
              ],
            },
          ],
        ]),
      invitees: () =>
        this.r.weighted<Json>([
          [2, { set: this.ids(this.r.chance(0.2) ? [] : this.users(2)) }],
          [2, { connect: this.ids(this.users(2)) }],
          [2, { disconnect: this.ids(this.users(2)) }],
        ]),
      memberships: () => {
        const teamId = this.team()
        return this.r.weighted<Json>([
          [2, { deleteMany: this.r.chance(0.5) ? {} : { role: this.r.pick(memberRoles) } }],
          [2, { create: [{ role: this.r.pick(memberRoles), teamId }] }],
          [
            2,
            {
              update: [
                { where: { userId_teamId: { userId: self, teamId } }, data: { role: this.r.pick(memberRoles) } },
              ],
            },
          ],
          [
            2,
            {
              upsert: [
                {
                  where: { userId_teamId: { userId: self, teamId } },
                  create: { role: this.r.pick(memberRoles), teamId },
                  update: { role: this.r.pick(memberRoles) },
                },
              ],
            },
          ],
        ])
      },
      comments: () =>
        this.either(
          0.5,
          { deleteMany: { postId: this.post() } },
          { create: [this.withId(ctx, this.comment(), { body: this.r.pick(bodies), postId: this.post() })] },
        ),
    }
    this.addRelations(data, relations, 0.2)
    if (!('invitedBy' in data) && this.r.chance(0.1)) data.invitedById = this.r.chance(0.7) ? this.user() : null
    // A new primary key: ON UPDATE CASCADE moves every key pointing at it.
    if (!('invitedBy' in data) && this.r.chance(0.04)) data.id = this.user()
    if (Object.keys(data).length === 0) data.name = this.r.pick(names)
    return data
  }

  postUpdate(ctx: Ctx): JsonObject {
    const data: JsonObject = this.r.subset(
      {
        title: this.r.pick(titles),
        published: this.r.chance(0.5),
        views: this.r.chance(0.5) ? { increment: this.r.int(1, 3) } : this.r.int(0, 6),
      },
      0.4,
      false,
    )
    const relations: Record<string, () => Json> = {
      author: () =>
        this.r.weighted<Json>([
          [4, { connect: { id: this.user() } }],
          [3, { disconnect: true }],
          [2, { update: { name: this.r.pick(names), balance: { increment: this.decimal() } } }],
          [1, { upsert: { create: this.userCreate(ctx, 1), update: { karma: { increment: this.bigint() } } } }],
          [1, { connectOrCreate: { where: { id: this.user() }, create: this.userCreate(ctx, 1) } }],
          [1, { delete: true }],
        ]),
      tags: () =>
        this.r.weighted<Json>([
          [3, { set: this.ids(this.r.chance(0.2) ? [] : this.tags(3)) }],
          [3, { connect: this.ids(this.tags(2)) }],
          [2, { disconnect: this.ids(this.tags(2)) }],
          [1, { create: [this.tagBase(ctx)] }],
          [2, { connectOrCreate: [this.tagConnectOrCreate(ctx)] }],
          [1, { delete: this.ids(this.tags(1)) }],
          [1, { deleteMany: [{ name: { startsWith: 't' }, id: { gt: this.tag() } }] }],
          [1, { update: [{ where: { id: this.tag() }, data: { name: this.tagName() } }] }],
        ]),
      comments: () =>
        this.r.weighted<Json>([
          [3, { create: [this.commentOfPost(ctx)] }],
          [2, { deleteMany: {} }],
          [2, { updateMany: { where: {}, data: { body: this.r.pick(bodies) } } }],
          [2, { delete: [{ id: this.comment() }] }],
          [1, { update: [{ where: { id: this.comment() }, data: { body: this.r.pick(bodies) } }] }],
          [
            1,
            {
              upsert: [
                {
                  where: { id: this.comment() },
                  create: this.withId(ctx, this.comment(), { body: this.r.pick(bodies), authorId: this.user() }),
                  update: { body: this.r.pick(bodies) },
                },
              ],
            },
          ],
        ]),
    }
    this.addRelations(data, relations, 0.3)
    if (!('author' in data) && this.r.chance(0.15)) data.authorId = this.r.chance(0.8) ? this.user() : null
    if (!('author' in data) && this.r.chance(0.04)) data.id = this.post()
    if (Object.keys(data).length === 0) data.views = { increment: 1 }
    return data
  }

  // -------------------------------------------------------------------------------------------------------------
  // Writes.

  postUnique(): JsonObject {
    return this.r.chance(0.7)
      ? { id: this.post() }
      : { authorId_title: { authorId: this.user(), title: this.r.pick(titles) } }
  }

  userUnique(): { where: JsonObject; self: number } {
    const self = this.user()
    return { where: this.r.chance(0.8) ? { id: self } : { email: this.email(self) }, self }
  }

  write(ctx: Ctx): WriteSpec {
    if (this.r.chance(0.25)) return this.keys.write()
    const model = this.r.weighted<'user' | 'post' | 'comment' | 'tag' | 'team' | 'membership' | 'profile' | 'auditLog'>(
      [
        [8, 'user'],
        [7, 'post'],
        [3, 'comment'],
        [2, 'tag'],
        [2, 'team'],
        [3, 'membership'],
        [2, 'profile'],
        [1, 'auditLog'],
      ],
    )
    return this[`${model}Write` as const](ctx)
  }

  userWrite(ctx: Ctx): WriteSpec {
    const op = this.r.weighted<WriteSpec['op']>([
      [6, 'create'],
      [1, 'createMany'],
      [this.returning, 'createManyAndReturn'],
      [6, 'update'],
      [2, 'updateMany'],
      [this.returning, 'updateManyAndReturn'],
      [4, 'upsert'],
      [2, 'delete'],
      [1, 'deleteMany'],
    ])
    const manyWhere = (): JsonObject =>
      this.r.pick<JsonObject>([
        { id: { in: this.users(2) } },
        { role: this.r.pick(roles) },
        { posts: { some: { published: true } } },
        { invitedById: this.user() },
        { karma: { gte: this.bigint() } },
      ])
    switch (op) {
      case 'create':
        return { model: 'user', op, args: { data: this.userCreate(ctx) } }
      case 'createMany':
      case 'createManyAndReturn': {
        const [a, b] = this.r.distinctInts(2, 1, space.users)
        const data = [a, b].map((id) => ({ ...this.userCreate(ctx, 1), id: id as number, email: `u${id}@x.io` }))
        const args: JsonObject = { data }
        if (this.provider !== 'sqlite' && this.r.chance(0.3)) args.skipDuplicates = true
        if (op === 'createManyAndReturn' && this.r.chance(0.5)) args.select = { id: true, email: true, balance: true }
        return { model: 'user', op, args }
      }
      case 'update': {
        const { where, self } = this.userUnique()
        return { model: 'user', op, args: { where, data: this.userUpdate(ctx, self) } }
      }
      case 'updateMany':
      case 'updateManyAndReturn': {
        const scalars = this.userScalars()
        if (this.r.chance(0.3)) scalars.karma = { increment: this.bigint() }
        const data = Object.keys(scalars).length ? scalars : { name: this.r.pick(names) }
        const args: JsonObject = { where: manyWhere(), data }
        if (op === 'updateManyAndReturn') args.select = { id: true, name: true, karma: true }
        // Which rows a limit keeps is the database's choice: not inside transactions, which are run twice.
        if (!ctx.tx && this.r.chance(0.2)) args.limit = 1
        return { model: 'user', op, args }
      }
      case 'upsert': {
        const { where, self } = this.userUnique()
        const create = this.userCreate(ctx)
        if ('id' in where && 'id' in create) create.id = self
        return { model: 'user', op, args: { where, create, update: this.userUpdate(ctx, self) } }
      }
      case 'delete':
        return { model: 'user', op, args: { where: this.userUnique().where } }
      default:
        return { model: 'user', op: 'deleteMany', args: { where: manyWhere(), ...(ctx.tx ? {} : { limit: 1 }) } }
    }
  }

  postWrite(ctx: Ctx): WriteSpec {
    const op = this.r.weighted<WriteSpec['op']>([
      [5, 'create'],
      [1, 'createMany'],
      [this.returning, 'createManyAndReturn'],
      [7, 'update'],
      [2, 'updateMany'],
      [this.returning, 'updateManyAndReturn'],
      [3, 'upsert'],
      [1, 'delete'],
      [1, 'deleteMany'],
    ])
    const manyWhere = (): JsonObject =>
      this.r.pick<JsonObject>([
        { authorId: this.user() },
        { tags: { some: { id: this.tag() } } },
        { author: { is: { role: this.r.pick(roles) } } },
        { views: { gt: this.r.int(0, 4) } },
        { id: { in: this.posts(2) } },
      ])
    switch (op) {
      case 'create':
        return { model: 'post', op, args: { data: this.postCreate(ctx) } }
      case 'createMany':
      case 'createManyAndReturn': {
        const data = [
          { ...this.postBase(ctx, true), authorId: this.user() },
          { ...this.postBase(ctx, true), authorId: this.r.chance(0.7) ? this.user() : null },
        ]
        const args: JsonObject = { data }
        if (this.provider !== 'sqlite' && this.r.chance(0.3)) args.skipDuplicates = true
        if (op === 'createManyAndReturn' && this.r.chance(0.5)) args.include = { author: true }
        return { model: 'post', op, args }
      }
      case 'update':
        return { model: 'post', op, args: { where: this.postUnique(), data: this.postUpdate(ctx) } }
      case 'updateMany':
      case 'updateManyAndReturn': {
        const data = this.r.subset(
          { published: this.r.chance(0.5), views: { increment: 1 }, title: this.r.pick(titles) },
          0.5,
        )
        const args: JsonObject = { where: manyWhere(), data }
        if (op === 'updateManyAndReturn' && this.r.chance(0.5)) args.include = { author: { select: { email: true } } }
        if (!ctx.tx && this.r.chance(0.2)) args.limit = 2
        return { model: 'post', op, args }
      }
      case 'upsert': {
        const where = this.postUnique()
        const create = this.postCreate(ctx)
        if ('id' in where && 'id' in create) create.id = where.id as number
        return { model: 'post', op, args: { where, create, update: this.postUpdate(ctx) } }
      }
      case 'delete':
        return { model: 'post', op, args: { where: this.postUnique() } }
      default:
        return { model: 'post', op: 'deleteMany', args: { where: manyWhere() } }
    }
  }

  commentWrite(ctx: Ctx): WriteSpec {
    return this.r.weighted<() => WriteSpec>([
      [5, () => ({ model: 'comment', op: 'create', args: { data: this.commentCreate(ctx) } })],
      [1, () => ({ model: 'comment', op: 'createMany', args: { data: [this.flatComment(ctx)] } })],
      [
        3,
        () => ({
          model: 'comment',
          op: 'update',
          args: {
            where: { id: this.comment() },
            data: this.r.pick<JsonObject>([
              { body: this.r.pick(bodies) },
              { post: { connect: { id: this.post() } } },
              { author: { connect: { id: this.user() } }, body: this.r.pick(bodies) },
              { postId: this.post() },
            ]),
          },
        }),
      ],
      [
        1,
        () => ({
          model: 'comment',
          op: 'upsert',
          args: {
            where: { id: this.comment() },
            create: this.flatComment(ctx),
            update: { body: this.r.pick(bodies) },
          },
        }),
      ],
      [1, () => ({ model: 'comment', op: 'delete', args: { where: { id: this.comment() } } })],
      [
        1,
        () => ({
          model: 'comment',
          op: 'deleteMany',
          args: { where: this.r.pick<JsonObject>([{ postId: this.post() }, { post: { published: true } }]) },
        }),
      ],
      [
        1,
        () => ({
          model: 'comment',
          op: 'updateMany',
          args: { where: { authorId: this.user() }, data: { body: this.r.pick(bodies) } },
        }),
      ],
    ])()
  }

  flatComment(ctx: Ctx): JsonObject {
    return this.withId(ctx, this.comment(), { body: this.r.pick(bodies), postId: this.post(), authorId: this.user() })
  }

  tagWrite(ctx: Ctx): WriteSpec {
    return this.r.weighted<() => WriteSpec>([
      [
        3,
        () => ({
          model: 'tag',
          op: 'create',
          args: {
            data: {
              ...this.tagBase(ctx),
              ...(this.r.chance(0.5) ? { posts: { connect: this.ids(this.posts(2)) } } : {}),
            },
          },
        }),
      ],
      [
        3,
        () => ({
          model: 'tag',
          op: 'update',
          args: {
            where: this.either(0.5, { id: this.tag() }, { name: this.tagName() }),
            data: this.r.pick<JsonObject>([
              { posts: { set: this.ids(this.posts(3)) } },
              { posts: { connect: this.ids(this.posts(2)) } },
              { posts: { disconnect: this.ids(this.posts(2)) } },
              { name: this.tagName() },
            ]),
          },
        }),
      ],
      [
        2,
        () => {
          const create = this.tagBase(ctx)
          return {
            model: 'tag',
            op: 'upsert',
            args: {
              where: { name: create.name as string },
              create,
              update: { posts: { connect: this.ids(this.posts(1)) } },
            },
          }
        },
      ],
      [1, () => ({ model: 'tag', op: 'delete', args: { where: { id: this.tag() } } })],
      [1, () => ({ model: 'tag', op: 'deleteMany', args: { where: { posts: { none: {} } } } })],
    ])()
  }

  teamWrite(ctx: Ctx): WriteSpec {
    return this.r.weighted<() => WriteSpec>([
      [
        3,
        () => ({
          model: 'team',
          op: 'create',
          args: {
            data: {
              ...this.teamBase(ctx),
              members: {
                create: [
                  this.either(
                    0.5,
                    { role: this.r.pick(memberRoles), userId: this.user() },
                    { role: this.r.pick(memberRoles), user: { connect: { id: this.user() } } },
                  ),
                ],
              },
            },
          },
        }),
      ],
      [
        3,
        () => ({
          model: 'team',
          op: 'update',
          args: {
            where: { id: this.team() },
            data: this.r.pick<JsonObject>([
              { members: { deleteMany: { role: this.r.pick(memberRoles) } } },
              { members: { create: [{ role: this.r.pick(memberRoles), userId: this.user() }] } },
              { members: { updateMany: { where: {}, data: { role: this.r.pick(memberRoles) } } } },
              { name: this.teamName() },
            ]),
          },
        }),
      ],
      [1, () => ({ model: 'team', op: 'delete', args: { where: { id: this.team() } } })],
    ])()
  }

  membershipWrite(ctx: Ctx): WriteSpec {
    const key = () => ({ userId_teamId: { userId: this.user(), teamId: this.team() } })
    return this.r.weighted<() => WriteSpec>([
      [5, () => ({ model: 'membership', op: 'create', args: { data: this.membershipCreate(ctx) } })],
      [
        1,
        () => ({
          model: 'membership',
          op: 'createMany',
          args: {
            data: [
              { userId: this.user(), teamId: this.team(), role: this.r.pick(memberRoles) },
              { userId: this.user(), teamId: this.team(), role: this.r.pick(memberRoles) },
            ],
          },
        }),
      ],
      [
        3,
        () => ({
          model: 'membership',
          op: 'update',
          args: {
            where: key(),
            data: this.r.pick<JsonObject>([
              { role: this.r.pick(memberRoles) },
              { team: { connect: { id: this.team() } } },
              { teamId: this.team() },
            ]),
          },
        }),
      ],
      [
        2,
        () => {
          const userId = this.user()
          const teamId = this.team()
          return {
            model: 'membership',
            op: 'upsert',
            args: {
              where: { userId_teamId: { userId, teamId } },
              create: { userId, teamId, role: this.r.pick(memberRoles) },
              update: { role: this.r.pick(memberRoles) },
            },
          }
        },
      ],
      [1, () => ({ model: 'membership', op: 'delete', args: { where: key() } })],
      [1, () => ({ model: 'membership', op: 'deleteMany', args: { where: { teamId: this.team() } } })],
      [
        this.returning,
        () => ({
          model: 'membership',
          op: 'updateManyAndReturn',
          args: { where: { userId: this.user() }, data: { role: this.r.pick(memberRoles) } },
        }),
      ],
    ])()
  }

  profileWrite(ctx: Ctx): WriteSpec {
    return this.r.weighted<() => WriteSpec>([
      [4, () => ({ model: 'profile', op: 'create', args: { data: this.profileCreate(ctx) } })],
      [
        2,
        () => ({
          model: 'profile',
          op: 'update',
          args: {
            where: this.either(0.5, { id: this.profile() }, { userId: this.user() }),
            data: this.r.pick<JsonObject>([{ bio: this.r.pick(bios) }, { user: { connect: { id: this.user() } } }]),
          },
        }),
      ],
      [
        2,
        () => {
          const userId = this.user()
          return {
            model: 'profile',
            op: 'upsert',
            args: {
              where: { userId },
              create: this.withId(ctx, this.profile(), { bio: this.r.pick(bios), userId }),
              update: { bio: this.r.pick(bios) },
            },
          }
        },
      ],
      [1, () => ({ model: 'profile', op: 'delete', args: { where: { userId: this.user() } } })],
      [1, () => ({ model: 'profile', op: 'deleteMany', args: { where: { user: { role: this.r.pick(roles) } } } })],
    ])()
  }

  auditLogWrite(ctx: Ctx): WriteSpec {
    if (this.r.chance(0.7)) {
      const data = this.withId(ctx, this.r.int(1, space.audits), { action: this.r.pick(bodies) })
      if (ctx.tx || this.r.chance(0.5)) data.at = date(this.r.pick(dates))
      return { model: 'auditLog', op: 'create', args: { data } }
    }
    return { model: 'auditLog', op: 'deleteMany', args: { where: { id: { lte: this.r.int(1, space.audits) } } } }
  }

  raw(): RawSpec {
    const statement = this.r.pick(statementsFor(this.provider)) as StatementName
    const value = {
      user: this.user,
      post: this.post,
      team: this.team,
      small: () => this.r.int(1, 5),
      text: () => this.r.pick(['raw', 'sql', 'owner']),
    }
    const values = (statements[statement].params as ReadonlyArray<keyof typeof value>).map((kind) => value[kind]())
    const forms = formsOf(statement)
    const form = this.r.weighted<RawSpec['form']>([
      [4, 'unsafe'],
      [4, 'tagged'],
      [forms.includes('query') ? 1 : 0, 'query'],
    ])
    return { form, statement, values }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reads: a fixed catalogue of shapes with a few small parameters.

  freshRead(): ReadSpec {
    const u = this.user()
    const p = this.post()
    const shapes: Array<() => ReadSpec> = [
      ...this.globalReads().map((read) => () => read),
      // User
      () => ({ model: 'user', op: 'findUnique', args: { where: { id: u } } }),
      () => ({ model: 'user', op: 'findUniqueOrThrow', args: { where: { id: u } } }),
      // Point reads of scalars by every kind of unique key (write-through models serve these from row entries).
      () => ({
        model: 'user',
        op: 'findUnique',
        args: { where: { email: `u${u}@x.io` }, select: { id: true, name: true, karma: true, invitedById: true } },
      }),
      () => ({
        model: 'user',
        op: 'findUniqueOrThrow',
        args: { where: { email: `u${u}@x.io` }, omit: { avatar: true } },
      }),
      () => ({ model: 'post', op: 'findUnique', args: { where: { id: p }, omit: { views: true } } }),
      () => ({
        model: 'post',
        op: 'findUnique',
        args: { where: { authorId_title: { authorId: u, title: this.r.pick(titles) } } },
      }),
      () => ({ model: 'tag', op: 'findUnique', args: { where: { name: this.tagName() } } }),
      () => ({
        model: 'membership',
        op: 'findUnique',
        args: { where: { userId_teamId: { userId: u, teamId: this.team() } } },
      }),
      // Lists of exactly one predicate, ordered by the primary key: fine list entries, which depend on the rows they
      // show (and on rows entering or leaving the predicate) instead of on every row of it.
      () => ({
        model: 'post',
        op: 'findMany',
        args: { where: { authorId: u }, orderBy: { id: this.r.pick(['asc', 'desc']) }, take: this.r.int(1, 3) },
      }),
      () => ({
        model: 'post',
        op: 'findFirst',
        args: {
          where: { authorId: u, published: this.r.chance(0.5) },
          orderBy: { id: 'desc' },
          select: { id: true, title: true, views: true, _count: { select: { comments: true } } },
        },
      }),
      () => ({
        model: 'comment',
        op: 'findMany',
        args: {
          where: { postId: p },
          orderBy: { id: 'asc' },
          skip: this.r.int(0, 1),
          include: { author: { select: { email: true } } },
        },
      }),
      () => ({
        model: 'membership',
        op: 'findMany',
        args: { where: { teamId: this.team() }, orderBy: list({ userId: 'asc' }, { teamId: 'desc' }) },
      }),
      () => ({
        model: 'user',
        op: 'findUnique',
        args: {
          where: { email: `u${u}@x.io` },
          include: {
            profile: true,
            posts: {
              where: this.either(0.5, { published: true }, { views: { lt: 4 } }),
              orderBy: { id: 'asc' },
              include: { tags: { orderBy: { id: 'asc' } } },
            },
          },
        },
      }),
      () => ({
        model: 'user',
        op: 'findUnique',
        args: {
          where: { id: u },
          select: {
            id: true,
            name: true,
            balance: true,
            karma: true,
            avatar: true,
            prefs: true,
            createdAt: true,
            role: true,
            _count: { select: { posts: true, comments: true, invitees: true, memberships: true } },
          },
        },
      }),
      () => ({
        model: 'user',
        op: 'findFirst',
        args: { where: { posts: { some: { published: true } } }, orderBy: { id: 'desc' } },
      }),
      () => ({
        model: 'user',
        op: 'findFirstOrThrow',
        args: { where: { role: 'ADMIN', karma: { gt: bigint(this.r.pick(['0', '-5'])) } }, orderBy: { id: 'asc' } },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          where: { invitedBy: { is: { role: this.r.pick(roles) } } },
          include: { invitedBy: true, invitees: { select: { id: true }, orderBy: { id: 'asc' } } },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          where: { posts: { every: { published: true } } },
          orderBy: list({ posts: { _count: 'desc' } }, { id: 'asc' }),
          select: { id: true, _count: true },
        },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: { where: { posts: { none: {} } }, select: { id: true, email: true }, orderBy: { email: 'asc' } },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: { cursor: { id: u }, take: this.r.pick([2, -2]), skip: 1, orderBy: { id: 'asc' } },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: { distinct: ['role'], orderBy: list({ role: 'asc' }, { id: 'asc' }), select: { role: true, id: true } },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          where: { profile: { isNot: null } },
          include: {
            profile: true,
            memberships: { include: { team: true }, orderBy: { teamId: 'asc' } },
          },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({
        model: 'user',
        op: 'findUnique',
        args: { where: { id: u } },
        fluent: [['posts', { where: { published: true }, orderBy: { id: 'asc' } }]],
      }),
      () => ({ model: 'user', op: 'findUnique', args: { where: { id: u } }, fluent: [['profile']] }),
      () => ({ model: 'user', op: 'findUniqueOrThrow', args: { where: { id: u } }, fluent: [['invitedBy']] }),
      () => ({
        model: 'user',
        op: 'findFirst',
        args: { where: { id: { gte: u } }, orderBy: { id: 'asc' } },
        fluent: [['memberships', { orderBy: { teamId: 'asc' } }]],
      }),
      () => ({ model: 'user', op: 'count', args: { where: { balance: { gte: decimal(this.r.pick(['0', '1.5'])) } } } }),
      () => ({ model: 'user', op: 'count', args: { select: { _all: true, name: true, invitedById: true } } }),
      () => ({
        model: 'user',
        op: 'aggregate',
        args: {
          where: { id: { lte: u } },
          _sum: { balance: true, karma: true },
          _avg: { balance: true, karma: true },
          _min: { createdAt: true, balance: true },
          _max: { karma: true, email: true },
          _count: { _all: true, avatar: true },
        },
      }),
      () => ({
        model: 'user',
        op: 'groupBy',
        args: {
          by: ['role'],
          _sum: { balance: true },
          _avg: { karma: true },
          _count: { _all: true },
          orderBy: { role: 'asc' },
        },
      }),
      () => ({
        model: 'user',
        op: 'groupBy',
        args: {
          by: ['invitedById'],
          having: { balance: { _sum: { gt: decimal('0') } } },
          _count: { id: true },
          _max: { createdAt: true },
          orderBy: { invitedById: 'asc' },
        },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          where: { avatar: { equals: bytes(this.r.pick(byteValues)) } },
          select: { id: true, avatar: true },
          orderBy: { id: 'desc' },
        },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          where: {
            prefs: {
              equals: this.r.chance(0.6)
                ? this.r.pick(jsonValues)
                : nullValue(this.r.pick(['DbNull', 'JsonNull', 'AnyNull'] as const)),
            },
          },
          select: { id: true, prefs: true },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          where: { createdAt: { lt: date(this.r.pick(dates)) } },
          select: { id: true, createdAt: true },
          orderBy: list({ createdAt: 'asc' }, { id: 'asc' }),
        },
      }),
      () => ({
        model: 'user',
        op: 'findMany',
        args: {
          omit: { avatar: true, prefs: true, createdAt: true },
          where: { OR: list({ name: { contains: 'n' } }, { NOT: { karma: { lt: bigint('0') } } }) },
          orderBy: list({ name: 'asc' }, { id: 'asc' }),
        },
      }),
      // Post
      () => ({
        model: 'post',
        op: 'findUnique',
        args: {
          where: { authorId_title: { authorId: u, title: this.r.pick(titles) } },
          include: { tags: { orderBy: { id: 'asc' } }, author: true },
        },
      }),
      () => ({
        model: 'post',
        op: 'findUniqueOrThrow',
        args: { where: { id: p }, include: { _count: true, author: { include: { profile: true } } } },
      }),
      () => ({
        model: 'post',
        op: 'findMany',
        args: {
          where: { tags: { some: { name: `t${this.tag()}` } } },
          include: { _count: true },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({
        model: 'post',
        op: 'findMany',
        args: {
          orderBy: list({ author: { name: 'asc' } }, { id: 'asc' }),
          select: { id: true, title: true, author: { select: { name: true } } },
        },
      }),
      () => ({
        model: 'post',
        op: 'findFirst',
        args: { where: { comments: { none: {} }, author: { is: null } }, orderBy: { id: 'asc' } },
      }),
      () => ({
        model: 'post',
        op: 'findMany',
        args: {
          where: { author: { posts: { some: { views: { gt: 2 } } } } },
          select: { id: true, views: true },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({
        model: 'post',
        op: 'aggregate',
        args: {
          where: { authorId: u },
          _sum: { views: true },
          _avg: { views: true },
          _count: { _all: true },
          _max: { title: true },
        },
      }),
      () => ({
        model: 'post',
        op: 'groupBy',
        args: {
          by: ['authorId', 'published'],
          _sum: { views: true },
          _count: { _all: true },
          orderBy: list({ authorId: 'asc' }, { published: 'asc' }),
        },
      }),
      () => ({ model: 'post', op: 'findUnique', args: { where: { id: p } }, fluent: [['author'], ['profile']] }),
      () => ({
        model: 'post',
        op: 'findUniqueOrThrow',
        args: { where: { id: p } },
        fluent: [['comments', { include: { author: { select: { email: true } } }, orderBy: { id: 'asc' } }]],
      }),
      () => ({
        model: 'post',
        op: 'findMany',
        args: {
          where: { tags: { every: { name: { startsWith: 't' } } } },
          select: {
            id: true,
            _count: { select: { tags: true, comments: { where: { body: { contains: 'i' } } } } },
          },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({
        model: 'post',
        op: 'findMany',
        args: { cursor: { id: p }, skip: this.r.int(0, 1), take: -2, orderBy: list({ views: 'desc' }, { id: 'asc' }) },
      }),
      () => ({
        model: 'post',
        op: 'findMany',
        args: { distinct: ['authorId'], orderBy: { id: 'asc' }, select: { id: true, authorId: true } },
      }),
      () => ({ model: 'post', op: 'count', args: { where: { tags: { none: {} } } } }),
      () => ({
        model: 'post',
        op: 'aggregate',
        args: {
          orderBy: list({ views: 'desc' }, { id: 'asc' }),
          take: 3,
          skip: this.r.int(0, 1),
          _sum: { views: true },
        },
      }),
      () => ({
        model: 'post',
        op: 'groupBy',
        args: {
          by: ['title'],
          where: { author: { role: { in: ['ADMIN', 'USER'] } } },
          _count: { _all: true },
          _min: { views: true },
          orderBy: { title: 'asc' },
          take: 2,
          skip: this.r.int(0, 1),
        },
      }),
      // Comment
      () => ({
        model: 'comment',
        op: 'findMany',
        args: {
          where: { post: { published: true } },
          include: { post: { include: { author: true } } },
          orderBy: { id: 'asc' },
        },
      }),
      () => ({ model: 'comment', op: 'count', args: { where: { author: { role: 'ADMIN' } } } }),
      () => ({
        model: 'comment',
        op: 'findMany',
        args: {
          orderBy: list({ post: { author: { name: 'desc' } } }, { id: 'asc' }),
          select: { id: true, postId: true },
          take: 4,
        },
      }),
      () => ({
        model: 'comment',
        op: 'findFirstOrThrow',
        args: { where: { authorId: u }, orderBy: { id: 'desc' } },
        fluent: [['post']],
      }),
      // Tag
      () => ({
        model: 'tag',
        op: 'findMany',
        args: {
          include: { posts: { select: { id: true, author: { select: { email: true } } }, orderBy: { id: 'asc' } } },
          orderBy: { name: 'asc' },
        },
      }),
      () => ({
        model: 'tag',
        op: 'findUnique',
        args: { where: { name: `t${this.tag()}` } },
        fluent: [['posts', { orderBy: { id: 'asc' } }]],
      }),
      // Team and Membership
      () => ({
        model: 'team',
        op: 'findUnique',
        args: {
          where: { id: this.team() },
          include: { members: { include: { user: { select: { name: true } } }, orderBy: { userId: 'asc' } } },
        },
      }),
      () => ({
        model: 'membership',
        op: this.r.pick(['findUnique', 'findUniqueOrThrow'] as const),
        args: { where: { userId_teamId: { userId: u, teamId: this.team() } }, include: { team: true } },
      }),
      () => ({
        model: 'membership',
        op: 'groupBy',
        args: { by: ['role'], _count: { _all: true }, orderBy: { role: 'asc' } },
      }),
      () => ({
        model: 'team',
        op: 'findMany',
        args: {
          where: { members: { some: { user: { posts: { some: {} } } } } },
          select: { id: true, name: true, _count: { select: { members: true } } },
          orderBy: { id: 'asc' },
        },
      }),
      // Profile
      () => ({ model: 'profile', op: 'findUnique', args: { where: { userId: u } }, fluent: [['user']] }),
      () => ({
        model: 'profile',
        op: 'findMany',
        args: { where: { user: { is: { invitedById: { not: null } } } }, orderBy: { id: 'asc' } },
      }),
      // The PostStats view (one row per author of a post): stale after any write to Post, raw SQL included.
      () => ({
        model: 'postStats',
        op: 'findMany',
        args: {
          where: this.either(0.5, { views: { gte: this.r.int(0, 6) } }, { posts: { gt: 1 } }),
          orderBy: list({ views: 'desc' }, { authorId: 'asc' }),
          take: this.r.pick([2, 5]),
        },
      }),
      () => ({
        model: 'postStats',
        op: this.r.pick(['findUnique', 'findUniqueOrThrow'] as const),
        args: { where: { authorId: u } },
      }),
      () => ({
        model: 'postStats',
        op: this.r.pick(['findFirst', 'findFirstOrThrow'] as const),
        args: {
          where: { posts: { gte: this.r.int(1, 3) } },
          orderBy: { authorId: 'desc' },
          select: { authorId: true, posts: true },
        },
      }),
      () => ({ model: 'postStats', op: 'count', args: { where: { authorId: { lte: u } } } }),
      () => ({
        model: 'postStats',
        op: 'aggregate',
        args: { _sum: { posts: true, views: true }, _max: { views: true }, _count: { _all: true } },
      }),
      () => ({
        model: 'postStats',
        op: 'groupBy',
        args: { by: ['posts'], _count: { _all: true }, _sum: { views: true }, orderBy: { posts: 'asc' } },
      }),
      // Keys moved by relation operations.
      () => this.keys.read(),
      () => this.keys.read(),
      () => this.keys.read(),
      // AuditLog is `@cache(false)`: the bypass path.
      () => ({ model: 'auditLog', op: 'findMany', args: { orderBy: { id: 'desc' }, take: 3 } }),
    ]
    return this.r.pick(shapes)()
  }

  /** Per-query cache options: short TTLs (expiry, refill, stale-while-revalidate), bypass, tags. */
  private cacheOption(): JsonObject | false {
    return this.r.pick<JsonObject | false>([
      { ttl: 0.05 },
      { ttl: 0.05, swr: 30 },
      { ttl: 0.3, swr: 0.3 },
      { tags: ['hot'] },
      { tags: ['hot', 'cold'], ttl: 2 },
      false,
    ])
  }

  /**
   * Whole-table reads with every scalar and their relations' keys and counts: they see any change to a row of their
   * model or to a relation of one, wherever the write was aimed. Always candidates for a probe.
   */
  globalReads(): ReadSpec[] {
    return [
      {
        model: 'user',
        op: 'findMany',
        args: { include: { _count: true, profile: { select: { bio: true } } }, orderBy: { id: 'asc' } },
      },
      {
        model: 'post',
        op: 'findMany',
        args: {
          select: {
            id: true,
            authorId: true,
            title: true,
            published: true,
            views: true,
            author: { select: { email: true, profile: { select: { bio: true } } } },
            tags: { select: { name: true }, orderBy: { id: 'asc' } },
            _count: { select: { comments: true } },
          },
          orderBy: { id: 'asc' },
        },
      },
      {
        model: 'comment',
        op: 'findMany',
        args: {
          include: { post: { select: { authorId: true } }, author: { select: { name: true } } },
          orderBy: { id: 'asc' },
        },
      },
      {
        model: 'tag',
        op: 'findMany',
        args: {
          select: {
            id: true,
            name: true,
            posts: { select: { id: true, author: { select: { email: true } } }, orderBy: { id: 'asc' } },
          },
          orderBy: { id: 'asc' },
        },
      },
      {
        model: 'team',
        op: 'findMany',
        args: {
          include: { members: { include: { user: { select: { name: true } } }, orderBy: { userId: 'asc' } } },
          orderBy: { id: 'asc' },
        },
      },
      {
        model: 'membership',
        op: 'findMany',
        args: {
          include: { user: { select: { email: true } }, team: { select: { name: true } } },
          orderBy: list({ userId: 'asc' }, { teamId: 'asc' }),
        },
      },
      {
        model: 'profile',
        op: 'findMany',
        args: {
          include: { user: { select: { name: true, invitedById: true, _count: { select: { posts: true } } } } },
          orderBy: { id: 'asc' },
        },
      },
      // Reads that depend on another model only through a filter or an ordering, never through what they select.
      {
        model: 'user',
        op: 'findMany',
        args: { where: { posts: { some: { comments: { some: {} } } } }, select: { id: true }, orderBy: { id: 'asc' } },
      },
      {
        model: 'post',
        op: 'findMany',
        args: {
          where: { author: { is: { profile: { isNot: null } } }, tags: { none: {} } },
          select: { id: true },
          orderBy: { id: 'asc' },
        },
      },
      {
        model: 'comment',
        op: 'findMany',
        args: { orderBy: list({ post: { author: { name: 'desc' } } }, { id: 'asc' }), select: { id: true } },
      },
      {
        model: 'team',
        op: 'count',
        args: { where: { members: { every: { user: { role: 'USER' } } } } },
      },
      // The view: every row of it, computed from every Post row.
      { model: 'postStats', op: 'findMany', args: { orderBy: { authorId: 'asc' } } },
      ...this.keys.globalReads(),
    ]
  }

  /** A read: most often one already issued (so the cache has it), otherwise a fresh one from the catalogue. */
  read(): ReadSpec {
    if (this.recent.length > 0 && this.r.chance(0.7)) return this.r.pick(this.recent)
    const read = this.freshRead()
    if (this.r.chance(0.15)) read.cache = this.cacheOption()
    this.recent.push(read)
    if (this.recent.length > 25) this.recent.shift()
    return read
  }

  // -------------------------------------------------------------------------------------------------------------
  // Transactions.

  /**
   * Whether the transaction being generated has run a statement that locks readers out until it ends: reads on the
   * outer client after it would wait for the commit that waits for them, so none is generated.
   */
  private readersBlocked = false

  txBody(depth: number): TxItem[] {
    if (depth === 0) this.readersBlocked = false
    const ctx: Ctx = { tx: true }
    const items: TxItem[] = []
    const n = this.r.int(1, depth === 0 ? 5 : 3)
    for (let i = 0; i < n; i++) {
      items.push(
        this.r.weighted<() => TxItem>([
          [4, () => ({ write: this.write(ctx) })],
          [3, () => ({ read: this.read() })],
          [1, () => this.txRaw()],
          [
            this.provider !== 'sqlite' ? 2 : 0,
            () => (this.readersBlocked ? { read: this.read() } : { outer: this.read() }),
          ],
          [depth === 0 ? 1 : 0, () => ({ nested: this.txBody(depth + 1), rollback: this.r.chance(0.5) })],
        ])(),
      )
    }
    return items
  }

  private txRaw(): TxItem {
    const raw = this.raw()
    if ((statements[raw.statement as StatementName] as { blocksReaders?: true }).blocksReaders)
      this.readersBlocked = true
    return { raw }
  }

  batch(): BatchItem[] {
    const ctx: Ctx = { tx: true }
    return Array.from({ length: this.r.int(2, 5) }, () =>
      this.r.weighted<() => BatchItem>([
        [4, () => ({ write: this.write(ctx) })],
        [4, () => ({ read: this.read() })],
        [1, () => ({ raw: this.raw() })],
      ])(),
    )
  }

  // -------------------------------------------------------------------------------------------------------------
  // The sequence.

  /** Rows to start from, through the cached client like everything else. */
  seedSteps(): Step[] {
    const ctx: Ctx = { tx: false }
    const steps: Step[] = []
    for (let id = 1; id <= 5; id++) {
      const data: JsonObject = { ...this.userCreate(ctx, 1), id, email: `u${id}@x.io` }
      if (id > 1 && this.r.chance(0.5)) data.invitedById = this.r.int(1, id - 1)
      if (this.r.chance(0.6)) data.profile = { create: { id, bio: this.r.pick(bios) } }
      steps.push({ kind: 'write', write: { model: 'user', op: 'create', args: { data } } })
    }
    for (let id = 1; id <= 3; id++) {
      steps.push({ kind: 'write', write: { model: 'tag', op: 'create', args: { data: { id, name: `t${id}` } } } })
    }
    steps.push({
      kind: 'write',
      write: { model: 'team', op: 'createMany', args: { data: teamNames.map((name, i) => ({ id: i + 1, name })) } },
    })
    for (let id = 1; id <= 8; id++) {
      const data: JsonObject = {
        id,
        title: this.r.pick(titles),
        views: this.r.int(0, 6),
        published: this.r.chance(0.5),
        tags: { connect: this.ids(this.r.distinctInts(this.r.int(0, 2), 1, 3)) },
      }
      if (this.r.chance(0.85)) data.authorId = this.r.int(1, 5)
      steps.push({ kind: 'write', write: { model: 'post', op: 'create', args: { data } } })
    }
    for (let id = 1; id <= 6; id++) {
      const data = { id, body: this.r.pick(bodies), postId: this.r.int(1, 8), authorId: this.r.int(1, 5) }
      steps.push({ kind: 'write', write: { model: 'comment', op: 'create', args: { data } } })
    }
    for (let i = 0; i < 4; i++) {
      const data = { userId: this.r.int(1, 5), teamId: this.team(), role: this.r.pick(memberRoles) }
      steps.push({
        kind: 'write',
        write: {
          model: 'membership',
          op: 'upsert',
          args: { where: { userId_teamId: { userId: data.userId, teamId: data.teamId } }, create: data, update: {} },
        },
      })
    }
    steps.push(...this.keys.seed())
    return steps
  }

  /**
   * A read that `step` should make stale through a relation: one that depends on a model the step changes, but is
   * not a read of the model it writes (those are invalidated by any write to it). Issued before the step (so the
   * cache holds it) and again after, it catches a dependency or a write effect Strata missed.
   */
  probeFor(step: Step): ReadSpec | undefined {
    const { roots, all } = stepModels(step)
    const candidates = [...this.recent, ...Array.from({ length: 6 }, () => this.freshRead()), ...this.globalReads()]
    const related = candidates.filter((read) => [...readModels(read)].some((m) => all.has(m)))
    const across = related.filter((read) => !roots.has(read.model))
    const pool = across.length > 0 && this.r.chance(0.85) ? across : related
    if (pool.length === 0) return undefined
    const read = this.r.pick(pool)
    if (!this.recent.includes(read)) {
      this.recent.push(read)
      if (this.recent.length > 25) this.recent.shift()
    }
    return read
  }

  sequence(count: number): Step[] {
    const steps = this.seedSteps()
    /** A step that writes: a probe read before and after (mostly), then one or two other reads. */
    const writing = (step: Step) => {
      const probe = this.r.chance(0.75) ? this.probeFor(step) : undefined
      if (probe) steps.push({ kind: 'read', read: probe })
      steps.push(step)
      if (probe) steps.push({ kind: 'read', read: probe })
      if (this.r.chance(0.4)) {
        // Everything read lately, and every table: filled by the previous check, stale now if a bump was missed.
        const seen = new Set<string>()
        const watch = [...this.recent.slice(-6), ...this.globalReads()].filter((read) => {
          const key = JSON.stringify(read)
          return !seen.has(key) && seen.add(key) !== undefined
        })
        steps.push({ kind: 'reads', reads: watch })
      } else {
        for (let i = this.r.int(1, 2); i > 0; i--) steps.push({ kind: 'read', read: this.read() })
      }
    }
    while (steps.length < count) {
      const kind = this.r.weighted<Step['kind']>([
        [40, 'read'],
        [30, 'write'],
        [6, 'raw'],
        [6, 'itx'],
        [6, 'batch'],
        [3, 'parallel'],
        [4, 'instance'],
        [3, 'omit'],
        [1, 'invalidate'],
        [2, 'lazy'],
      ])
      switch (kind) {
        case 'read':
          steps.push({ kind, read: this.read() })
          break
        case 'write':
          writing({ kind, write: this.write({ tx: false }) })
          break
        case 'raw':
          writing({ kind, raw: this.raw() })
          break
        case 'itx':
          writing({ kind, body: this.txBody(0), rollback: this.r.chance(0.35) })
          break
        case 'batch':
          writing({ kind, items: this.batch() })
          break
        case 'invalidate':
          steps.push({
            kind,
            models: this.r.pick([[], ['User'], ['Post', 'Tag'], ['Membership']]),
            tags: this.r.pick([[], ['hot'], ['cold', 'other']]),
          })
          break
        case 'lazy': {
          const write = this.write({ tx: false })
          writing({ kind, read: this.probeFor({ kind: 'write', write }) ?? this.read(), write })
          break
        }
        case 'parallel': {
          const reads = Array.from({ length: this.r.int(2, 5) }, () => this.read())
          // The same query twice at once: one database query, both callers answered (single flight), also when
          // one of them is the *OrThrow form (they share an entry).
          if (this.r.chance(0.6)) {
            const twin = this.r.pick(reads)
            const op = twin.op.endsWith('OrThrow')
              ? (twin.op.slice(0, -'OrThrow'.length) as ReadSpec['op'])
              : twin.op.startsWith('find') && !twin.op.startsWith('findMany')
                ? (`${twin.op}OrThrow` as ReadSpec['op'])
                : twin.op
            reads.push(this.r.chance(0.5) ? twin : { ...twin, op })
          }
          steps.push({ kind, reads })
          break
        }
        case 'instance': {
          const reads = Array.from({ length: this.r.int(2, 4) }, () => this.read())
          if (this.r.chance(0.5)) {
            steps.push({ kind, reads })
            break
          }
          // With every table among the reads: once the main client answers them all like the oracle, it has
          // applied the instance's bump, whatever the write changed (the next steps compare it at once).
          const write = this.write({ tx: false })
          const probe = this.probeFor({ kind: 'write', write })
          writing({ kind, reads: [...(probe ? [probe] : []), ...reads, ...this.globalReads()], write })
          break
        }
        case 'omit': {
          // Reads the main client has just answered (and so holds, in Redis too): an entry of its scope answering
          // the other shows at once. With a write, every table too: the main client must then have applied its
          // bump (as for instance).
          const some = Array.from({ length: this.r.int(2, 4) }, () => this.read())
          const write = this.r.chance(0.3) ? this.write({ tx: false }) : undefined
          const reads = write ? [...some, ...this.globalReads()] : some
          steps.push({ kind: 'reads', reads: some })
          if (write) writing({ kind, reads, write })
          else steps.push({ kind, reads })
          break
        }
      }
    }
    return steps.slice(0, Math.max(count, 0))
  }
}

/** `count` steps from `seed`: the same seed and options always give the same sequence. */
export function generate(seed: number, options: GeneratorOptions): Step[] {
  return new Generator(new Rng(seed), options.provider).sequence(options.steps)
}
