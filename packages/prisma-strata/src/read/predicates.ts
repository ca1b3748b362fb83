/**
 * Precise invalidation, the read side: which rows a read can see, as equality predicates on columns (design
 * invariant 11, docs/design.md). A read whose `where` implies `authorId = 5` (alone or with other conditions) can
 * only see rows with `authorId = 5`; any write that changes its answer changes such a row, before or after. So the
 * read depends on the predicate `Post{authorId=5}` instead of every `Post`. Relation loads pinned by the parent's
 * predicate (`user.findUnique({ where: { id: 5 }, include: { posts: true } })` loads `Post{authorId=5}`) are
 * predicates too. Anything else depends on whole models, as with `invalidation: 'model'`.
 *
 * What is taken is always implied by the read (a superset of the rows it sees): extra conditions (ranges,
 * `contains`, `NOT`) are left out, never guessed.
 */
import type { Args } from '../args'
import type { ForeignKey, ModelGraph, ModelInfo } from '../schema/model-graph'
import { reachedModels, readDependencies } from './dependencies'

/** Rows of `model` whose `fields` (sorted) hold one of `tuples` (value texts, in `fields` order). */
export interface Predicate {
  model: string
  fields: string[]
  tuples: string[][]
  /**
   * The read counts the rows of exactly this predicate and reads nothing of them: its answer changes only when a
   * row enters or leaves it, so it depends on the predicate's membership version, not on its rows' contents.
   */
  members?: true
}

/** What a read can see: every row of `models`, and the rows `predicates` name. */
export interface Footprint {
  models: Set<string>
  predicates: Predicate[]
  /** Set when the read lists rows of its root predicate in an order its rows' keys fix (see `listedRows`). */
  rows?: ListedRows
}

/**
 * A read that lists the rows of exactly `predicate` (its `where` is nothing else), ordered by the primary key `key`.
 * Its answer changes only when a row enters or leaves the predicate, a row it shows changes, or a key moves: it can
 * depend on the predicate's membership, the key scheme and the versions of the rows it shows instead of every row
 * of the predicate (fine list entries, query-entry.ts). Without `skip`, a row leaving changes the answer only if the
 * answer shows it, and then that row's own version is bumped: such a list depends on rows arriving, not leaving.
 */
export interface ListedRows {
  predicate: Predicate
  key: string[]
  /** The read skips rows: one leaving before its window shifts the rows it shows (it depends on leaving too). */
  skips: boolean
}

/** Beyond this many value combinations, `in` lists are dropped from a predicate (a wider one is still implied). */
const MAX_TUPLES = 64

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/**
 * The text a predicate holds for a value of an exact field: the same for the value a read names and the value a
 * row has. Undefined for a value that is not of the field's type (the predicate is then not taken).
 */
export function valueText(type: string | undefined, value: unknown): string | undefined {
  if (value === null) return 'n'
  switch (type) {
    case 'Int':
    case 'BigInt':
      if (typeof value === 'bigint') return `i${value}`
      return typeof value === 'number' && Number.isSafeInteger(value) ? `i${value}` : undefined
    case 'Boolean':
      return typeof value === 'boolean' ? (value ? 'b1' : 'b0') : undefined
    case 'String':
    case 'enum':
      return typeof value === 'string' ? `s${value}` : undefined
    default:
      return undefined
  }
}

/** Field → the values a `where` pins it to (one, or an `in` list). */
type Equalities = Map<string, string[]>

/** The equalities a `where` implies: its own, those of `AND`, and compound unique keys; the rest is left out. */
function equalities(info: ModelInfo, where: unknown, into: Equalities = new Map()): Equalities {
  if (!isObject(where)) return into
  for (const [key, value] of Object.entries(where)) {
    if (value === undefined) continue
    if (key === 'AND') {
      for (const clause of Array.isArray(value) ? value : [value]) equalities(info, clause, into)
      continue
    }
    if (info.exact.has(key)) {
      const values = pinned(info, key, value)
      if (values) pin(into, key, values)
      continue
    }
    // A compound unique key (`authorId_slug: { authorId, slug }`): every one of its fields is pinned. Only a key
    // whose fields are one of the model's compound keys: `NOT: { authorId: 1 }` has the same shape.
    if (!info.scalars.has(key) && !info.relations.has(key) && !LOGICAL.has(key) && isObject(value)) {
      const fields = Object.keys(value)
      if (isCompoundKey(info, fields) && fields.every((f) => info.exact.has(f))) {
        for (const f of fields) {
          const values = pinned(info, f, value[f])
          if (values) pin(into, f, values)
        }
      }
    }
  }
  return into
}

const LOGICAL = new Set(['AND', 'OR', 'NOT'])

/** Whether `fields` are exactly one of the model's compound unique keys (its primary key included). */
function isCompoundKey(info: ModelInfo, fields: string[]): boolean {
  return info.uniques.some(
    (key) => key.length > 1 && key.length === fields.length && key.every((f) => fields.includes(f)),
  )
}

/** The values a filter on one field pins it to: `v`, `{ equals: v }` or `{ in: [...] }`; else undefined. */
function pinned(info: ModelInfo, field: string, filter: unknown): string[] | undefined {
  const type = info.types.get(field)
  if (!isObject(filter)) {
    const text = valueText(type, filter)
    return text === undefined ? undefined : [text]
  }
  const keys = Object.keys(filter).filter((k) => filter[k] !== undefined)
  if (keys.length !== 1) return undefined
  if (keys[0] === 'equals') {
    const text = valueText(type, filter.equals)
    return text === undefined ? undefined : [text]
  }
  if (keys[0] === 'in' && Array.isArray(filter.in) && filter.in.length > 0) {
    const texts = filter.in.map((v) => valueText(type, v))
    return texts.every((t) => t !== undefined) ? [...new Set(texts as string[])] : undefined
  }
  return undefined
}

/** Two conditions on one field: the values both allow (an empty list means no row can match). */
function pin(into: Equalities, field: string, values: string[]): void {
  const held = into.get(field)
  into.set(field, held ? held.filter((v) => values.includes(v)) : values)
}

/** The predicate of a set of equalities: fields sorted, every combination of values (within MAX_TUPLES). */
function predicateOf(model: string, pins: Equalities): Predicate | undefined {
  const fields = [...pins.keys()].sort()
  let size = fields.reduce((n, f) => n * (pins.get(f) as string[]).length, 1)
  // Too many combinations: drop the longest `in` lists (what is left is still implied by the read).
  while (size > MAX_TUPLES && fields.length > 0) {
    let widest = 0
    for (let i = 1; i < fields.length; i++) {
      if ((pins.get(fields[i] as string)?.length ?? 0) > (pins.get(fields[widest] as string)?.length ?? 0)) widest = i
    }
    fields.splice(widest, 1)
    size = fields.reduce((n, f) => n * (pins.get(f) as string[]).length, 1)
  }
  // No field, or a field no value can satisfy (`a = 1 AND a = 2`): nothing precise is taken.
  if (fields.length === 0 || fields.some((f) => (pins.get(f) as string[]).length === 0)) return undefined
  let tuples: string[][] = [[]]
  for (const field of fields) {
    const values = pins.get(field) as string[]
    tuples = tuples.flatMap((t) => values.map((v) => [...t, v]))
  }
  return { model, fields, tuples }
}

/**
 * What a read of `model` with `args` can see. `precise(model)`: whether that model's rows are followed by
 * predicate (its writes bump them); a model that is not is taken whole.
 */
export function readFootprint(
  graph: ModelGraph,
  model: string,
  args: Args | undefined,
  precise: (model: string) => boolean,
  operation?: string,
): Footprint {
  const footprint: Footprint = { models: new Set(), predicates: [] }
  const info = graph.models.get(model)
  const own = info && precise(model) && !args?.cursor ? rootPredicates(info, args?.where) : undefined
  if (!info || !own) {
    for (const m of readDependencies(graph, model, args)) footprint.models.add(m)
    return footprint
  }
  const counted =
    own.length === 1 && operation === 'count' && countsOnly(args) ? exactly(info, own[0], args?.where) : undefined
  footprint.predicates.push(...(counted ? [counted] : own))
  const listed = own.length === 1 && !counted ? listedRows(info, own[0] as Predicate, args, operation) : undefined
  if (listed) footprint.rows = listed
  // Relation filters and relation ordering read the models they reach whole, this one too when a relation leads back
  // to it (`mentor: { karma: { gt: 100 } }`: rows the predicate does not name).
  const filters = reachedModels(graph, model, { where: args?.where, orderBy: args?.orderBy, having: args?.having })
  for (const m of filters) footprint.models.add(m)
  const single = own.length === 1 ? own[0] : undefined
  selection(graph, info, single, args?.include, footprint, precise)
  selection(graph, info, single, args?.select, footprint, precise)
  return footprint
}

const LISTS = new Set(['findMany', 'findFirst', 'findFirstOrThrow'])

/**
 * The rows a read lists, when its answer is fixed by which rows are in `predicate`, their primary keys and the
 * contents of the rows it returns: a `findMany`/`findFirst` whose `where` is exactly the predicate, ordered by the
 * whole primary key (a total order only a key update moves; without one, a database may return rows in another
 * order after an update of a row the answer does not show), without `distinct` or `cursor`, that selects the key.
 */
function listedRows(
  info: ModelInfo,
  predicate: Predicate,
  args: Args | undefined,
  operation: string | undefined,
): ListedRows | undefined {
  if (!args || !operation || !LISTS.has(operation) || args.distinct !== undefined || args.cursor !== undefined) {
    return undefined
  }
  const key = info.id
  if (key.length === 0 || !key.every((f) => info.exact.has(f))) return undefined
  // A predicate on the key itself names its rows already.
  if (key.length === predicate.fields.length && key.every((f) => predicate.fields.includes(f))) return undefined
  if (!exactly(info, predicate, args.where)) return undefined
  const ordered = orderFields(args.orderBy)
  if (!ordered || ordered.length !== key.length || !key.every((f) => ordered.includes(f))) return undefined
  const { select, omit } = args
  if (isObject(select) && !key.every((f) => select[f] === true)) return undefined
  if (isObject(omit) && key.some((f) => omit[f])) return undefined
  return { predicate, key, skips: args.skip !== undefined && args.skip !== 0 }
}

/** The scalar fields an `orderBy` sorts by, each `'asc'` or `'desc'`; undefined for any other ordering. */
function orderFields(orderBy: unknown): string[] | undefined {
  const fields: string[] = []
  for (const clause of Array.isArray(orderBy) ? orderBy : [orderBy]) {
    if (!isObject(clause)) return undefined
    for (const [field, direction] of Object.entries(clause)) {
      if (direction === undefined) continue
      if (direction !== 'asc' && direction !== 'desc') return undefined
      fields.push(field)
    }
  }
  return fields.length > 0 && new Set(fields).size === fields.length ? fields : undefined
}

/** The predicates a root `where` implies: its equalities, or one per disjunct of an `OR` that has them all. */
function rootPredicates(info: ModelInfo, where: unknown): Predicate[] | undefined {
  const own = predicateOf(info.name, equalities(info, where))
  if (own) return [own]
  const or = isObject(where) ? where.OR : undefined
  if (!Array.isArray(or) || or.length === 0) return undefined
  const each = or.map((clause) => predicateOf(info.name, equalities(info, clause)))
  return each.every((p) => p !== undefined) ? (each as Predicate[]) : undefined
}

/**
 * Relations loaded by `include`/`select` (and `_count`): a list relation whose key the parent's predicate pins is a
 * predicate on the related model; any other is read whole, with everything below it.
 */
function selection(
  graph: ModelGraph,
  info: ModelInfo,
  parent: Predicate | undefined,
  selected: unknown,
  footprint: Footprint,
  precise: (model: string) => boolean,
): void {
  if (!isObject(selected)) return
  for (const [key, value] of Object.entries(selected)) {
    if (!value) continue
    if (key === '_count') {
      const counted = isObject(value) && isObject(value.select) ? value.select : undefined
      for (const rel of info.relations.values()) {
        if (counted && !counted[rel.name]) continue
        const args = counted && isObject(counted[rel.name]) ? (counted[rel.name] as Args) : undefined
        related(graph, info, parent, rel.name, args, footprint, precise, false)
      }
      continue
    }
    if (!info.relations.has(key)) continue
    related(graph, info, parent, key, isObject(value) ? value : undefined, footprint, precise, true)
  }
}

function related(
  graph: ModelGraph,
  info: ModelInfo,
  parent: Predicate | undefined,
  field: string,
  args: Args | undefined,
  footprint: Footprint,
  precise: (model: string) => boolean,
  loads: boolean,
): void {
  const rel = info.relations.get(field)
  if (!rel) return
  const target = graph.models.get(rel.target)
  // A cursor positions the page at a row the parent's key may not pin (another parent's), which a write outside the
  // predicate moves: such a load is read whole, as a root read with a cursor is.
  const fk = target && parent && precise(rel.target) && !args?.cursor ? childKey(graph, info, field) : undefined
  const pins = fk && target ? pinnedByParent(target, fk, parent as Predicate, args?.where) : undefined
  const predicate = pins && predicateOf(rel.target, pins)
  if (!predicate || !target) {
    for (const m of readDependencies(graph, rel.target, loads ? args : { where: args?.where })) footprint.models.add(m)
    return
  }
  footprint.predicates.push((!loads && exactly(target, predicate, args?.where, fk)) || predicate)
  for (const m of reachedModels(graph, rel.target, { where: args?.where, orderBy: args?.orderBy }))
    footprint.models.add(m)
  if (!loads) return
  const single = predicate.tuples.length > 0 ? predicate : undefined
  selection(graph, target, single, args?.include, footprint, precise)
  selection(graph, target, single, args?.select, footprint, precise)
}

/** The foreign key of a list relation held by the related rows (`User.posts` → `Post.authorId`), if there is one. */
function childKey(graph: ModelGraph, info: ModelInfo, field: string): ForeignKey | undefined {
  const rel = info.relations.get(field)
  const target = rel && graph.models.get(rel.target)
  if (!rel || !target) return undefined
  // On a self-relation both fields share the relation: the one holding the key (`invitedBy`) is not a list of children.
  return graph.foreignKeysTo
    ?.get(info.name)
    ?.find(
      (fk) =>
        fk.child === rel.target &&
        !(fk.child === info.name && fk.childField === field) &&
        target.relations.get(fk.childField)?.relationName === rel.relationName,
    )
}

/**
 * The related rows' equalities: their key fields hold the parent's referenced values (which the parent's
 * predicate must pin, one combination per parent tuple), plus what their own `where` pins.
 */
function pinnedByParent(target: ModelInfo, fk: ForeignKey, parent: Predicate, where: unknown): Equalities | undefined {
  if (!fk.fields.every((f) => target.exact.has(f))) return undefined
  const at = fk.references.map((r) => parent.fields.indexOf(r))
  if (at.some((i) => i < 0)) return undefined
  // Only a single key field can take several parent values as one `in`; compound keys need one parent tuple.
  if (fk.fields.length > 1 && parent.tuples.length > 1) return undefined
  const pins = equalities(target, where)
  fk.fields.forEach((field, k) => {
    const values = [...new Set(parent.tuples.map((t) => t[at[k] as number] as string))]
    pin(pins, field, values)
  })
  return pins
}

/** A `count` that counts rows (no field's non-null values, no window): `where` and `select: { _all: true }` only. */
function countsOnly(args: Args | undefined): boolean {
  if (!args) return true
  return Object.entries(args).every(
    ([key, value]) =>
      value === undefined ||
      key === 'where' ||
      (key === 'select' && isObject(value) && Object.keys(value).every((k) => k === '_all' || !value[k])),
  )
}

/**
 * The membership form of `predicate` when `where` says nothing but the equalities it holds (and the parent's key
 * `fk`, for a relation count): then a row is counted exactly when it matches the predicate. Otherwise undefined:
 * a range, `contains` or relation filter, or a field dropped for too many combinations, can change the count while
 * the row stays in the predicate, so the count depends on the rows' contents like any read.
 */
function exactly(
  info: ModelInfo,
  predicate: Predicate | undefined,
  where: unknown,
  fk?: ForeignKey,
): Predicate | undefined {
  if (!predicate || !onlyEqualities(info, where)) return undefined
  const named = [...equalities(info, where).keys(), ...(fk?.fields ?? [])]
  return named.every((f) => predicate.fields.includes(f)) ? { ...predicate, members: true } : undefined
}

/** Whether `where` is nothing but equalities `equalities` takes (fields, `AND` of them, compound unique keys). */
function onlyEqualities(info: ModelInfo, where: unknown): boolean {
  if (where === undefined) return true
  if (!isObject(where)) return false
  return Object.entries(where).every(([key, value]) => {
    if (value === undefined) return true
    if (key === 'AND') return (Array.isArray(value) ? value : [value]).every((c) => onlyEqualities(info, c))
    if (info.exact.has(key)) return pinned(info, key, value) !== undefined
    if (info.scalars.has(key) || info.relations.has(key) || LOGICAL.has(key) || !isObject(value)) return false
    const fields = Object.keys(value)
    return (
      isCompoundKey(info, fields) && fields.every((f) => info.exact.has(f) && pinned(info, f, value[f]) !== undefined)
    )
  })
}
