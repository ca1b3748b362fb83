/**
 * The models a write can change (DESIGN invariant 4): its target, every model its nested writes reach, both
 * sides of the relations whose keys it sets, and every model that referential actions (`onDelete`/`onUpdate`)
 * can change, transitively. With foreign keys known (schema text or generator) this is exact; without, every
 * model connected to a deleted or updated one is taken.
 */
import { connectedModels, type ModelGraph } from '../schema/model-graph'

type Args = Record<string, unknown>

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function each(value: unknown, visit: (item: Args) => void): void {
  if (Array.isArray(value)) for (const item of value) isObject(item) && visit(item)
  else if (isObject(value)) visit(value)
}

class WriteEffects {
  readonly touched = new Set<string>()
  constructor(private readonly graph: ModelGraph) {}

  add(model: string): void {
    this.touched.add(model)
  }

  /** Rows of `model` are deleted: follow `onDelete` of every key pointing at it. */
  deleted(model: string, seen = new Set<string>()): void {
    this.add(model)
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
  updated(model: string, fields: Iterable<string>, seen = new Set<string>()): void {
    this.add(model)
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

  joinTable(table: string): void {
    for (const model of this.graph.joinTables.get(table) ?? []) this.add(model)
  }

  private conservative(model: string): void {
    for (const name of connectedModels(this.graph, model)) this.add(name)
  }

  /** Create/update data on `model`: scalars it sets, and nested writes into its relations. */
  data(model: string, data: unknown, isUpdate: boolean): void {
    each(data, (item) => {
      const info = this.graph.models.get(model)
      const scalars: string[] = []
      for (const [key, value] of Object.entries(item)) {
        const rel = info?.relations.get(key)
        if (rel) this.nested(model, rel.target, value)
        else if (value !== undefined) scalars.push(key)
      }
      if (isUpdate && scalars.length) this.updated(model, scalars)
    })
  }

  /** A nested write from `parent` into relation target `model`: `{ create, connect, update, delete, ... }`. */
  private nested(parent: string, model: string, ops: unknown): void {
    this.add(parent)
    this.add(model) // both sides: connect/disconnect/set move a foreign key or a join-table row
    for (const table of this.graph.joinTables.keys()) {
      const pair = this.graph.joinTables.get(table)
      if (pair?.includes(parent) && pair.includes(model)) this.joinTable(table)
    }
    if (!isObject(ops)) return
    for (const [op, value] of Object.entries(ops)) {
      switch (op) {
        case 'create':
          this.data(model, value, false)
          break
        case 'createMany':
          each(value, (v) => this.data(model, v.data, false))
          break
        case 'connectOrCreate':
          each(value, (v) => this.data(model, v.create, false))
          break
        case 'upsert':
          each(value, (v) => {
            this.data(model, v.create, false)
            this.data(model, v.update, true)
          })
          break
        case 'update':
        case 'updateMany':
          // `{ where, data }` or, on a to-one relation, the data itself.
          each(value, (v) => this.data(model, 'data' in v && isObject(v.data) ? v.data : v, true))
          break
        case 'delete':
        case 'deleteMany':
          this.deleted(model)
          break
        default:
          break // connect, disconnect, set: both sides are already taken
      }
    }
  }
}

/** Every model a write of `operation` on `model` with `args` can change. */
export function affectedModels(graph: ModelGraph, model: string, operation: string, args: Args | undefined): string[] {
  const effects = new WriteEffects(graph)
  effects.add(model)
  const a = args ?? {}
  switch (operation) {
    case 'create':
    case 'createMany':
    case 'createManyAndReturn':
      effects.data(model, a.data, false)
      break
    case 'update':
    case 'updateMany':
    case 'updateManyAndReturn':
      effects.data(model, a.data, true)
      break
    case 'upsert':
      effects.data(model, a.create, false)
      effects.data(model, a.update, true)
      break
    case 'delete':
    case 'deleteMany':
      effects.deleted(model)
      break
    default:
      // An operation this version of Strata does not know: take everything it could reach.
      for (const name of connectedModels(graph, model)) effects.add(name)
  }
  return [...effects.touched].sort()
}
