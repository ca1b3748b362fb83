// Writes and reads of the models whose foreign keys relation operations move: Box/Crate/Item (Item.crateBoxId
// references Crate.boxId, a key other than the primary key, with onUpdate: Cascade) and Person/Passport/Stamp
// (Passport's primary key is its foreign key to Person; Stamp.passportId references it, onUpdate: Cascade).
// `connect`, `disconnect`, `set`, nested creates and `connectOrCreate` on the side that holds a key move it, and the
// database cascades to the rows that reference it: the cache must follow. Every create carries its ids.
import type { Rng } from './random.ts'
import type { Json, JsonObject, ReadSpec, Step, WriteSpec } from './steps.ts'

/** Id spaces, small so that writes collide with what reads cached. */
export const keySpace = { boxes: 4, crates: 5, items: 6, persons: 5, stamps: 5 } as const

const labels = ['red', 'blue', "o'neil"]
const countries = ['fr', 'jp', 'br']

export class KeyMoves {
  constructor(private readonly r: Rng) {}

  box = () => this.r.int(1, keySpace.boxes)
  crate = () => this.r.int(1, keySpace.crates)
  item = () => this.r.int(1, keySpace.items)
  person = () => this.r.int(1, keySpace.persons)
  stamp = () => this.r.int(1, keySpace.stamps)

  /** A crate by either of its unique keys. */
  private crateWhere = (): JsonObject => (this.r.chance(0.6) ? { id: this.crate() } : { boxId: this.box() })

  private newBox = (): JsonObject => ({ id: this.box(), label: this.r.pick(labels) })
  private newItem = (): JsonObject => ({ id: this.item(), name: this.r.pick(labels) })
  private newStamp = (): JsonObject => ({ id: this.stamp(), country: this.r.pick(countries) })
  private newPerson = (): JsonObject => ({ id: this.person(), name: this.r.pick(labels) })

  /** Rows to start from: boxes with a crate each, items in them, people with passports and stamps. */
  seed(): Step[] {
    const write = (model: WriteSpec['model'], data: JsonObject): Step => ({
      kind: 'write',
      write: { model, op: 'create', args: { data } },
    })
    const steps: Step[] = []
    for (let id = 1; id <= 3; id++) {
      const items = [2 * id - 1, 2 * id].filter((i) => i <= keySpace.items).map((i) => ({ id: i, name: `i${i}` }))
      steps.push(write('box', { id, label: `b${id}`, crates: { create: [{ id, items: { create: items } }] } }))
    }
    for (let id = 1; id <= 4; id++) {
      const data: JsonObject = { id, name: `p${id}` }
      if (id <= 3) data.passport = { create: { number: `n${id}`, stamps: { create: [{ id, country: 'fr' }] } } }
      steps.push(write('person', data))
    }
    return steps
  }

  write(): WriteSpec {
    return this.r.weighted<() => WriteSpec>([
      [2, () => this.boxWrite()],
      [3, () => this.crateWrite()],
      [2, () => this.itemWrite()],
      [2, () => this.personWrite()],
      [3, () => this.passportWrite()],
      [2, () => this.stampWrite()],
    ])()
  }

  boxWrite(): WriteSpec {
    const data = (): JsonObject =>
      this.r.weighted<JsonObject>([
        [1, { label: this.r.pick(labels) }],
        // The crates' key moves to this box (the side that holds it is the crate's).
        [3, { crates: { connect: [{ id: this.crate() }] } }],
        [2, { crates: { connectOrCreate: [{ where: { id: this.crate() }, create: { id: this.crate() } }] } }],
        [1, { crates: { create: [{ id: this.crate(), items: { create: [this.newItem()] } }] } }],
        // A new primary key: Crate.boxId cascades, and Item.crateBoxId after it.
        [2, { id: this.box() }],
        [
          1,
          {
            crates: {
              update: [{ where: { id: this.crate() }, data: { items: { connect: [{ id: this.item() }] } } }],
            },
          },
        ],
        [1, { crates: { deleteMany: {} } }],
      ])
    return this.r.weighted<() => WriteSpec>([
      [2, () => ({ model: 'box', op: 'create', args: { data: this.newBox() } })],
      [5, () => ({ model: 'box', op: 'update', args: { where: { id: this.box() }, data: data() } })],
      [
        1,
        () => ({
          model: 'box',
          op: 'upsert',
          args: { where: { id: this.box() }, create: this.newBox(), update: data() },
        }),
      ],
      [1, () => ({ model: 'box', op: 'delete', args: { where: { id: this.box() } } })],
    ])()
  }

  crateWrite(): WriteSpec {
    const data = (): JsonObject =>
      this.r.weighted<JsonObject>([
        // The crate holds the key: each of these moves Crate.boxId, and Item.crateBoxId follows.
        [4, { box: { connect: { id: this.box() } } }],
        [2, { box: { create: this.newBox() } }],
        [2, { box: { connectOrCreate: { where: { id: this.box() }, create: this.newBox() } } }],
        [1, { box: { update: { label: this.r.pick(labels) } } }],
        [2, { boxId: this.box() }],
        [1, { id: this.crate() }],
        // The items hold their key: connecting moves them here.
        [2, { items: { connect: [{ id: this.item() }] } }],
        [1, { items: { create: [this.newItem()] } }],
        [1, { items: { delete: [{ id: this.item() }] } }],
      ])
    return this.r.weighted<() => WriteSpec>([
      [
        2,
        () => ({
          model: 'crate',
          op: 'create',
          args: {
            data: this.r.chance(0.5)
              ? ({ id: this.crate(), boxId: this.box() } as JsonObject)
              : { id: this.crate(), box: this.either({ connect: { id: this.box() } }, { create: this.newBox() }) },
          },
        }),
      ],
      [6, () => ({ model: 'crate', op: 'update', args: { where: this.crateWhere(), data: data() } })],
      [
        1,
        () => ({
          model: 'crate',
          op: 'upsert',
          args: { where: this.crateWhere(), create: { id: this.crate(), boxId: this.box() }, update: data() },
        }),
      ],
      [1, () => ({ model: 'crate', op: 'delete', args: { where: this.crateWhere() } })],
    ])()
  }

  itemWrite(): WriteSpec {
    const data = (): JsonObject =>
      this.r.weighted<JsonObject>([
        [1, { name: this.r.pick(labels) }],
        [3, { crate: { connect: this.crateWhere() } }],
        [1, { crateBoxId: this.box() }],
        // Two levels down: the item's crate moves to another box, which moves every item of that crate.
        [3, { crate: { update: { box: { connect: { id: this.box() } } } } }],
        [1, { crate: { update: { boxId: this.box() } } }],
      ])
    return this.r.weighted<() => WriteSpec>([
      [
        2,
        () => ({
          model: 'item',
          op: 'create',
          args: { data: { ...this.newItem(), crate: { connect: this.crateWhere() } } },
        }),
      ],
      [5, () => ({ model: 'item', op: 'update', args: { where: { id: this.item() }, data: data() } })],
      [
        1,
        () => ({ model: 'item', op: 'updateMany', args: { where: { crateBoxId: this.box() }, data: { name: 'x' } } }),
      ],
      [1, () => ({ model: 'item', op: 'delete', args: { where: { id: this.item() } } })],
    ])()
  }

  personWrite(): WriteSpec {
    const data = (): JsonObject =>
      this.r.weighted<JsonObject>([
        [1, { name: this.r.pick(labels) }],
        // The passport holds the key (its primary key): connecting another person's passport moves it here.
        [3, { passport: { connect: { personId: this.person() } } }],
        [2, { passport: { create: { number: 'new', stamps: { create: [this.newStamp()] } } } }],
        [
          2,
          {
            passport: {
              connectOrCreate: { where: { personId: this.person() }, create: { number: 'cc' } },
            },
          },
        ],
        [1, { passport: { delete: true } }],
        [1, { passport: { update: { stamps: { connect: [{ id: this.stamp() }] } } } }],
        // A new primary key: Passport.personId cascades, and Stamp.passportId after it.
        [2, { id: this.person() }],
      ])
    return this.r.weighted<() => WriteSpec>([
      [2, () => ({ model: 'person', op: 'create', args: { data: this.newPerson() } })],
      [5, () => ({ model: 'person', op: 'update', args: { where: { id: this.person() }, data: data() } })],
      [1, () => ({ model: 'person', op: 'delete', args: { where: { id: this.person() } } })],
    ])()
  }

  passportWrite(): WriteSpec {
    const data = (): JsonObject =>
      this.r.weighted<JsonObject>([
        [1, { number: this.r.pick(labels) }],
        // Each moves the passport's primary key (its foreign key), and its stamps follow.
        [4, { person: { connect: { id: this.person() } } }],
        [2, { person: { create: this.newPerson() } }],
        [2, { person: { connectOrCreate: { where: { id: this.person() }, create: this.newPerson() } } }],
        [1, { personId: this.person() }],
        [2, { stamps: { connect: [{ id: this.stamp() }] } }],
        [1, { stamps: { set: [{ id: this.stamp() }] } }],
      ])
    return this.r.weighted<() => WriteSpec>([
      [
        2,
        () => ({
          model: 'passport',
          op: 'create',
          args: {
            data: this.r.chance(0.5)
              ? ({ personId: this.person(), number: 'c' } as JsonObject)
              : { number: 'c', person: this.either({ connect: { id: this.person() } }, { create: this.newPerson() }) },
          },
        }),
      ],
      [6, () => ({ model: 'passport', op: 'update', args: { where: { personId: this.person() }, data: data() } })],
      [
        1,
        () => ({
          model: 'passport',
          op: 'upsert',
          args: {
            where: { personId: this.person() },
            create: { personId: this.person(), number: 'u' },
            update: data(),
          },
        }),
      ],
      [1, () => ({ model: 'passport', op: 'delete', args: { where: { personId: this.person() } } })],
    ])()
  }

  stampWrite(): WriteSpec {
    const data = (): JsonObject =>
      this.r.weighted<JsonObject>([
        [1, { country: this.r.pick(countries) }],
        [3, { passport: { connect: { personId: this.person() } } }],
        // Two levels down: the stamp's passport moves to another person, and every stamp of it follows.
        [3, { passport: { update: { person: { connect: { id: this.person() } } } } }],
      ])
    return this.r.weighted<() => WriteSpec>([
      [
        2,
        () => ({
          model: 'stamp',
          op: 'create',
          args: { data: { ...this.newStamp(), passport: { connect: { personId: this.person() } } } },
        }),
      ],
      [4, () => ({ model: 'stamp', op: 'update', args: { where: { id: this.stamp() }, data: data() } })],
      [1, () => ({ model: 'stamp', op: 'deleteMany', args: { where: { passportId: this.person() } } })],
    ])()
  }

  /** Point and filtered reads of one model: cached apart from the model whose write moved their keys. */
  read(): ReadSpec {
    return this.r.pick<() => ReadSpec>([
      () => ({ model: 'item', op: 'findMany', args: { where: { crateBoxId: this.box() }, orderBy: { id: 'asc' } } }),
      () => ({ model: 'item', op: 'findUnique', args: { where: { id: this.item() } } }),
      () => ({ model: 'crate', op: 'findUnique', args: { where: this.crateWhere() } }),
      () => ({ model: 'crate', op: 'findUnique', args: { where: { id: this.crate() } }, fluent: [['items']] }),
      () => ({ model: 'stamp', op: 'findUnique', args: { where: { id: this.stamp() } } }),
      () => ({ model: 'stamp', op: 'count', args: { where: { passportId: this.person() } } }),
      () => ({ model: 'passport', op: 'findUnique', args: { where: { personId: this.person() } } }),
      () => ({
        model: 'passport',
        op: 'findUnique',
        args: { where: { personId: this.person() }, include: { stamps: { orderBy: { id: 'asc' } } } },
      }),
      () => ({ model: 'person', op: 'findUnique', args: { where: { id: this.person() } }, fluent: [['passport']] }),
      () => ({
        model: 'item',
        op: 'groupBy',
        args: { by: ['crateBoxId'], _count: { _all: true }, orderBy: { crateBoxId: 'asc' } },
      }),
    ])()
  }

  /** Whole tables: any row a missed cascade left stale shows. */
  globalReads(): ReadSpec[] {
    return [
      { model: 'item', op: 'findMany', args: { orderBy: { id: 'asc' } } },
      { model: 'stamp', op: 'findMany', args: { orderBy: { id: 'asc' } } },
      {
        model: 'box',
        op: 'findMany',
        args: { include: { crates: { include: { items: { orderBy: { id: 'asc' } } } } }, orderBy: { id: 'asc' } },
      },
      {
        model: 'person',
        op: 'findMany',
        args: { include: { passport: { include: { stamps: { orderBy: { id: 'asc' } } } } }, orderBy: { id: 'asc' } },
      },
    ]
  }

  private either(a: Json, b: Json): Json {
    return this.r.chance(0.5) ? a : b
  }
}
