/**
 * The models a write can change (design invariant 4, docs/design.md): its target, every model its nested writes reach, both
 * sides of the relations whose keys it sets, and every model that referential actions (`onDelete`/`onUpdate`)
 * can change, transitively. With foreign keys known (schema text or generator) this is exact; without, every
 * model connected to a deleted or updated one is taken.
 */

import type { Args } from '../args'
import { connectedModels, type ForeignKey, type ModelGraph, type RelationField } from '../schema/model-graph'

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function each(value: unknown, visit: (item: Args) => void): void {
  if (Array.isArray(value)) for (const item of value) isObject(item) && visit(item)
  else if (isObject(value)) visit(value)
}

class WriteEffects {
  readonly touched = new Set<string>()
  /** Models with rows changed other than the one row a single-row write names (`update`, `upsert`, `delete`). */
  readonly elsewhere = new Set<string>()
  /** Columns of the row the write names that it changes, set directly or moved by a relation operation. */
  readonly rootFields = new Set<string>()
  /** Models with rows created by nested writes (rows nobody else's, but rows all the same). */
  readonly created = new Set<string>()
  constructor(private readonly graph: ModelGraph) {}

  /** `root`: the change is to the row the write itself names, not to other rows of `model`. */
  add(model: string, root = false): void {
    this.touched.add(model)
    if (!root) this.elsewhere.add(model)
  }

  /** Rows of `model` are deleted: follow `onDelete` of every key pointing at it. */
  deleted(model: string, seen = new Set<string>(), root = false): void {
    this.add(model, root)
    if (seen.has(model)) return
    seen.add(model)
    const keys = this.graph.foreignKeysTo
    if (!keys) {
      this.conservative(model)
      return
    }
    for (const [table, pair] of this.graph.joinTables) if (pair.includes(model)) this.joinTable(table)
    for (const fk of keys.get(model) ?? []) {
      if (fk.onDelete === 'Cascade') this.deleted(fk.child, seen)
      else if (fk.onDelete === 'SetNull' || fk.onDelete === 'SetDefault') this.updated(fk.child, fk.fields, seen)
    }
  }

  /** `fields` of rows of `model` change: follow `onUpdate` of the keys that reference those fields. */
  updated(model: string, fields: Iterable<string>, seen = new Set<string>(), root = false): void {
    this.add(model, root)
    if (root) for (const field of fields) this.rootFields.add(field)
    const keys = this.graph.foreignKeysTo
    if (!keys) {
      this.conservative(model)
      return
    }
    const changed = new Set(fields)
    for (const fk of keys.get(model) ?? []) {
      if (!fk.references.some((f) => changed.has(f))) continue
      if (fk.onUpdate === 'Cascade' || fk.onUpdate === 'SetNull' || fk.onUpdate === 'SetDefault') {
        const mark = `${fk.child}:${fk.fields.join(',')}`
        if (seen.has(mark)) continue
        seen.add(mark)
        this.updated(fk.child, fk.fields, seen)
      }
    }
  }

  /** A join-table row changes: reads of either side's relation do, but no row of either model does. */
  joinTable(table: string): void {
    for (const model of this.graph.joinTables.get(table) ?? []) this.add(model, true)
  }

  private conservative(model: string): void {
    for (const name of connectedModels(this.graph, model)) this.add(name)
  }

  /**
   * Create/update data on `model`: scalars it sets, and nested writes into its relations. `covered`: the rows
   * written are the one the write names or new ones, not other existing rows. `isUpdate`: the rows exist already,
   * so keys that point at them can follow a change.
   */
  data(model: string, data: unknown, isUpdate: boolean, covered = false, top = false): void {
    if (!top && !isUpdate) this.created.add(model)
    each(data, (item) => {
      const info = this.graph.models.get(model)
      const scalars: string[] = []
      for (const [key, value] of Object.entries(item)) {
        const rel = info?.relations.get(key)
        if (rel) this.nested(model, rel, value, covered, isUpdate)
        else if (value !== undefined) scalars.push(key)
      }
      if (isUpdate && scalars.length) this.updated(model, scalars, new Set(), covered)
    })
  }

  /** The foreign key behind `rel` (a relation field of `parent`) and which side holds it; undefined when unknown. */
  private keyOf(
    parent: string,
    rel: RelationField,
  ): { side: 'parent' | 'target'; fk: ForeignKey } | 'join' | undefined {
    const keys = this.graph.foreignKeysTo
    if (!keys) return undefined
    const own = keys.get(rel.target)?.find((fk) => fk.child === parent && fk.childField === rel.name)
    if (own) return { side: 'parent', fk: own }
    const target = this.graph.models.get(rel.target)
    const theirs = keys
      .get(parent)
      ?.find((fk) => fk.child === rel.target && target?.relations.get(fk.childField)?.relationName === rel.relationName)
    if (theirs) return { side: 'target', fk: theirs }
    return this.graph.joinTables.has(`_${rel.relationName}`) ? 'join' : undefined
  }

  /**
   * A nested write from `parent` through `rel`: `{ create, connect, update, delete, ... }`. `parentExists`: the
   * parent row was there before this write (an update), so keys pointing at it can follow.
   */
  private nested(
    parent: string,
    rel: RelationField,
    ops: unknown,
    parentCovered: boolean,
    parentExists: boolean,
  ): void {
    const model = rel.target
    const key = this.keyOf(parent, rel)
    const side = typeof key === 'object' ? key.side : key
    // Reads of both sides change. Rows: the parent's when it holds the key, existing target rows when they do
    // (connect, disconnect, set move it) or when they are updated or deleted; new rows are nobody else's.
    this.add(parent, parentCovered || side !== 'parent')
    this.add(model, true)
    if (side === 'join') this.joinTable(`_${rel.relationName}`)
    else if (side === undefined) {
      for (const [table, pair] of this.graph.joinTables)
        if (pair.includes(parent) && pair.includes(model)) this.joinTable(table)
    }
    const linksMoveTargetRows = side === 'target' || side === undefined
    if (!isObject(ops)) return
    for (const [op, value] of Object.entries(ops)) {
      // Linking moves the key columns of whichever side holds them: keys that reference those columns follow
      // their onUpdate action, as when `data` sets the columns.
      if (typeof key === 'object' && movesKey(op, key.side)) {
        if (key.side === 'parent' && parentExists) this.updated(parent, key.fk.fields, new Set(), parentCovered)
        if (key.side === 'target') this.updated(model, key.fk.fields)
      } else if (key === undefined && movesKey(op, 'parent')) {
        // Which side holds the key, and what references it, is unknown: whatever its actions can reach.
        for (const name of connectedModels(this.graph, model)) this.add(name)
      }
      switch (op) {
        case 'create':
          this.data(model, value, false, true)
          break
        case 'createMany':
          each(value, (v) => this.data(model, v.data, false, true))
          break
        case 'connectOrCreate':
          if (linksMoveTargetRows) this.add(model)
          each(value, (v) => this.data(model, v.create, false, true))
          break
        case 'upsert':
          each(value, (v) => {
            this.data(model, v.create, false, true)
            this.data(model, v.update, true)
          })
          this.add(model)
          break
        case 'update':
        case 'updateMany':
          // `{ where, data }` or, on a to-one relation, the data itself.
          each(value, (v) => this.data(model, 'data' in v && isObject(v.data) ? v.data : v, true))
          this.add(model)
          break
        case 'delete':
        case 'deleteMany':
          this.deleted(model)
          break
        default:
          // connect, disconnect, set: the key moves on whichever side holds it.
          if (linksMoveTargetRows) this.add(model)
      }
    }
  }
}

/**
 * Whether nested operation `op` can set the key columns on `side`: on the parent's side anything that links it to
 * another row (a to-one `delete` leaves that to the onDelete action); on the target's side, linking existing rows.
 */
function movesKey(op: string, side: 'parent' | 'target'): boolean {
  if (side === 'parent') return ['connect', 'disconnect', 'create', 'connectOrCreate', 'upsert', 'set'].includes(op)
  return ['connect', 'disconnect', 'set', 'connectOrCreate'].includes(op)
}

export interface WriteEffect {
  /** Every model the write can change, sorted. */
  models: string[]
  /**
   * Models with rows changed besides the rows the write names at top level: through nested writes, keys it moves
   * and referential actions. For write-through models, their row entries cannot be kept.
   */
  elsewhere: Set<string>
  /** Columns of the row the write names that it can change (a write-through row whose key moves is not put). */
  rootFields: Set<string>
  /** Models whose rows the write changes other than the one it names: `elsewhere`, and rows nested writes create. */
  otherRows: Set<string>
}

function effectOf(effects: WriteEffects): WriteEffect {
  return {
    models: [...effects.touched].sort(),
    elsewhere: effects.elsewhere,
    rootFields: effects.rootFields,
    otherRows: new Set([...effects.elsewhere, ...effects.created]),
  }
}

/** A write to `model` whose arguments are not known: any row of every model a relation path reaches may change. */
export function anyWriteEffects(graph: ModelGraph, model: string): WriteEffect {
  const effects = new WriteEffects(graph)
  for (const name of connectedModels(graph, model)) effects.add(name)
  return effectOf(effects)
}

/** Every model a write of `operation` on `model` with `args` can change. */
export function writeEffects(graph: ModelGraph, model: string, operation: string, args: Args | undefined): WriteEffect {
  const effects = new WriteEffects(graph)
  effects.add(model, true)
  const a = args ?? {}
  switch (operation) {
    case 'create':
    case 'createMany':
    case 'createManyAndReturn':
      effects.data(model, a.data, false, true, true)
      break
    case 'update':
    case 'updateMany':
    case 'updateManyAndReturn':
      effects.data(model, a.data, true, true, true)
      break
    case 'upsert':
      effects.data(model, a.create, false, true, true)
      effects.data(model, a.update, true, true, true)
      break
    case 'delete':
    case 'deleteMany':
      effects.deleted(model, new Set(), true)
      break
    default:
      // An operation this version of Strata does not know: take everything it could reach.
      return anyWriteEffects(graph, model)
  }
  return effectOf(effects)
}

export function affectedModels(graph: ModelGraph, model: string, operation: string, args: Args | undefined): string[] {
  return writeEffects(graph, model, operation, args).models
}
