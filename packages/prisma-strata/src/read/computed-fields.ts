/**
 * Computed fields of result extensions (`prisma.$extends({ result }).$extends(cache())`, or added after cache()).
 * Prisma adds them to what its query returns; a function or a class instance does not survive the codec, and a
 * closure kept in the local tier would act on another caller's object. So the cache holds the rows as they are
 * below the computed fields (`strip`, on the way in), and every answer gets them again on the caller's own copy
 * (`present`), the way Prisma applies them: per object of a model that has them, following `include`/`select`,
 * honouring `select`/`omit` (and the client's global `omit`), lazily, computed on first access. The client below
 * Strata does not know those added after cache(): a read sent there asks for the fields they need instead (`lower`).
 */

import type { Args } from '../args'
import { delegateName } from '../schema/delegate-name'
import type { ModelGraph } from '../schema/model-graph'

type Row = Record<string, unknown>

/** One computed field as Prisma merged it: `needs` flattened to stored fields, `compute` chained over overrides. */
export interface ComputedField {
  name: string
  needs: string[]
  compute: (row: Row, model: string) => unknown
}

/** Prisma's merged extension list (internal, stable across Prisma 7). */
interface ExtensionList {
  getAllComputedFields?(model: string): Record<string, ComputedField> | undefined
}

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export class ComputedFields {
  private constructor(
    private readonly graph: ModelGraph,
    private readonly byModel: Map<string, ComputedField[]>,
    private readonly globalOmit: Record<string, Args> | undefined,
  ) {}

  /** The computed fields of a client, or undefined when it has none (the common case). */
  static of(graph: ModelGraph, client: Record<string, unknown>): ComputedFields | undefined {
    return ComputedFields.from(graph, client, () => true)
  }

  /**
   * The computed fields of `outer`, a client extended after Strata, that `below` (the client below Strata) does not
   * compute itself: result extensions added after cache() (or overriding one below). Undefined when there are none.
   */
  static above(
    graph: ModelGraph,
    outer: Record<string, unknown>,
    below: Record<string, unknown>,
  ): ComputedFields | undefined {
    const under = below._extensions as ExtensionList | undefined
    return ComputedFields.from(
      graph,
      outer,
      (model, field) => under?.getAllComputedFields?.(model)?.[field.name]?.compute !== field.compute,
    )
  }

  private static from(
    graph: ModelGraph,
    client: Record<string, unknown>,
    keep: (model: string, field: ComputedField) => boolean,
  ): ComputedFields | undefined {
    const list = client._extensions as ExtensionList | undefined
    const byModel = new Map<string, ComputedField[]>()
    for (const model of graph.models.keys()) {
      const name = delegateName(model)
      const fields = Object.values(list?.getAllComputedFields?.(name) ?? {}).filter((f) => keep(name, f))
      if (fields.length > 0) byModel.set(model, fields)
    }
    if (byModel.size === 0) return undefined
    return new ComputedFields(graph, byModel, client._globalOmit as Record<string, Args> | undefined)
  }

  /** Whether `model` itself has computed fields. */
  has(model: string): boolean {
    return this.byModel.has(model)
  }

  /** Whether a computed field takes the name of a stored field or relation of its model (the value is then lost). */
  replacesStored(): boolean {
    for (const [model, fields] of this.byModel) {
      const info = this.graph.models.get(model)
      if (fields.some((f) => info?.scalars.has(f.name) || info?.relations.has(f.name))) return true
    }
    return false
  }

  /**
   * Whether the rows the caller sees cannot compute a field of this read again: it needs a stored field the read
   * leaves out (`select: { fullName: true }`: Prisma fetches and hides it), or it replaces a stored field of the
   * same name. Such reads are not cached.
   */
  cannotRepeat(model: string, args: Args | undefined): boolean {
    const a = args ?? {}
    const info = this.graph.models.get(model)
    const shown = this.shown(model, a)
    for (const field of this.byModel.get(model) ?? []) {
      if (!shown(field.name)) continue
      if (field.needs.some((n) => !shown(n)) || info?.scalars.has(field.name) || info?.relations.has(field.name)) {
        return true
      }
    }
    for (const [key, sub] of this.relations(model, a)) {
      if (this.cannotRepeat(this.target(model, key), isObject(sub) ? sub : {})) return true
    }
    return false
  }

  /** A plain copy of Prisma's answer without the computed fields: what the cache stores. */
  strip(value: unknown, model: string, args: Args | undefined): unknown {
    if (Array.isArray(value)) return value.map((item) => this.strip(item, model, args))
    if (!isObject(value)) return value
    const a = args ?? {}
    // A computed field that does not apply leaves a stored field of the same name as it is.
    const shown = this.shown(model, a)
    const names = new Set((this.byModel.get(model) ?? []).filter((f) => shown(f.name)).map((f) => f.name))
    const nested = new Map(this.relations(model, a))
    const out: Row = {}
    for (const key in value) {
      if (names.has(key)) continue
      const sub = nested.get(key)
      out[key] =
        sub === undefined ? value[key] : this.strip(value[key], this.target(model, key), isObject(sub) ? sub : {})
    }
    return out
  }

  /**
   * The arguments to send to a client that does not compute these fields (the one below Strata, for fields added
   * after it): each computed field out of `select` and `omit`, the stored fields it needs selected or not omitted
   * (`false` overrides the client's global `omit`). `present` then computes them and hides what only they needed.
   */
  lower(model: string, args: Args | undefined): Args {
    const a = args ?? {}
    const fields = this.byModel.get(model) ?? []
    const out: Args = { ...a }
    const scalars = this.graph.models.get(model)?.scalars
    if (isObject(a.select)) {
      const select: Args = { ...a.select }
      for (const field of fields) {
        if (!(field.name in select)) continue
        const wanted = Boolean(select[field.name])
        // A stored field of the same name stays selected: Prisma reads it and computes over it, in its place.
        if (!scalars?.has(field.name)) delete select[field.name]
        if (wanted) for (const need of field.needs) if (!select[need]) select[need] = true
      }
      out.select = this.lowerRelations(model, select)
    } else {
      const omitted = this.omit(model, a)
      const omit: Args = isObject(a.omit) ? { ...a.omit } : {}
      // Out goes the omit of a name the client below does not know; a stored field of the same name stays omitted.
      for (const field of fields) if (!scalars?.has(field.name)) delete omit[field.name]
      for (const field of fields) {
        if (!omitted[field.name]) for (const need of field.needs) if (omitted[need]) omit[need] = false
      }
      if (Object.keys(omit).length > 0 || a.omit !== undefined) out.omit = omit
      if (isObject(a.include)) out.include = this.lowerRelations(model, { ...a.include })
    }
    return out
  }

  private lowerRelations(model: string, selection: Args): Args {
    const info = this.graph.models.get(model)
    for (const [key, sub] of Object.entries(selection)) {
      if (!sub || !info?.relations.has(key)) continue
      const lowered = this.lower(this.target(model, key), isObject(sub) ? sub : undefined)
      selection[key] = sub === true && Object.keys(lowered).length === 0 ? true : lowered
    }
    return selection
  }

  /**
   * Adds the computed fields to an answer the caller owns, as Prisma answers `args`: in place on a copy out of the
   * cache; on a copy (`copy`) of what a client below answered to `lower(args)`, so that nothing lands on that
   * client's own rows. Each field is computed lazily from the row as the caller has it, except that the fields
   * computed before it read as computed, itself and those after it as stored, and the needs hidden from the caller
   * as fetched (Prisma's own layers); the stored fields only they needed, which `args` leaves out, are removed.
   */
  present(value: unknown, model: string, args: Args | undefined, copy = false): unknown {
    return this.presentAs(value, this.plan(model, args ?? {}), copy)
  }

  private plan(model: string, args: Args): Plan {
    const shown = this.shown(model, args)
    const applied = (this.byModel.get(model) ?? []).filter((field) => shown(field.name))
    const hidden = new Set<string>()
    for (const field of applied) for (const need of field.needs) if (!shown(need)) hidden.add(need)
    const relations = this.relations(model, args).map(([key, sub]): [string, string, Args] => [
      key,
      this.target(model, key),
      isObject(sub) ? sub : {},
    ])
    return {
      model: delegateName(model),
      applied,
      order: new Map(applied.map((field, i) => [field.name, i])),
      hidden,
      relations,
      nested: new Map(),
    }
  }

  private presentAs(value: unknown, plan: Plan, copy: boolean): unknown {
    if (Array.isArray(value)) {
      if (copy) return value.map((item) => this.presentAs(item, plan, copy))
      for (const item of value) this.presentAs(item, plan, copy)
      return value
    }
    if (!isObject(value)) return value
    const row: Row = copy ? { ...value } : value
    if (plan.applied.length > 0) computeOn(row, plan)
    for (const [key, target, sub] of plan.relations) {
      if (row[key] == null) continue
      let nested = plan.nested.get(key)
      if (nested === undefined) {
        nested = this.plan(target, sub)
        plan.nested.set(key, nested)
      }
      const presented = this.presentAs(row[key], nested, copy)
      if (copy) row[key] = presented
    }
    return row
  }

  /**
   * Whether a read's answer shows a field, by Prisma's rule: with `select`, only the fields it names; else all but
   * those `omit` (the read's, over the client's global one) names. The merged `omit` is worked out once per read.
   */
  private shown(model: string, args: Args): (name: string) => boolean {
    const select = args.select
    if (isObject(select)) return (name) => Boolean(select[name])
    const omit = this.omit(model, args)
    return (name) => !omit[name]
  }

  private omit(model: string, args: Args): Args {
    return { ...this.globalOmit?.[delegateName(model)], ...(isObject(args.omit) ? args.omit : {}) }
  }

  /** Relation fields the read loads (`include`/`select`), with their own arguments. */
  private relations(model: string, args: Args): Array<[string, unknown]> {
    const info = this.graph.models.get(model)
    const out: Array<[string, unknown]> = []
    for (const selection of [args.include, args.select]) {
      if (!isObject(selection)) continue
      for (const [key, sub] of Object.entries(selection)) if (sub && info?.relations.has(key)) out.push([key, sub])
    }
    return out
  }

  private target(model: string, field: string): string {
    return this.graph.models.get(model)?.relations.get(field)?.target ?? model
  }
}

/** What `present` works out once per level of an answer (every row of a list shares it). */
interface Plan {
  model: string
  applied: ComputedField[]
  /** Each applied field's place: a computation sees those before it computed, itself and those after as stored. */
  order: Map<string, number>
  hidden: Set<string>
  relations: Array<[key: string, target: string, args: Args]>
  nested: Map<string, Plan>
}

/** Defines the plan's computed fields on one row, and removes the needs only they wanted. */
function computeOn(row: Row, plan: Plan): void {
  const { applied, order, hidden } = plan
  // The stored values a computation may read that the caller's row will not show (or shows computed).
  const stored: Row = {}
  for (const key of hidden) if (Object.hasOwn(row, key)) stored[key] = row[key]
  for (const field of applied) if (Object.hasOwn(row, field.name)) stored[field.name] = row[field.name]
  // As Prisma: a field whose needs the row lacks is not computed.
  const computable = applied.map((field) => field.needs.every((n) => Object.hasOwn(row, n)))
  const values = new Map<number, unknown>()
  const computed = (i: number): unknown => {
    if (!values.has(i)) {
      const field = applied[i] as ComputedField
      values.set(i, field.compute(layer(i), plan.model))
    }
    return values.get(i)
  }
  /** The row the computation of field `at` sees. Spreading it (Prisma's chained computations do) shows the same. */
  const layer = (at: number): Row => {
    /** Where `key` reads from: the caller's row (`undefined`), or `{ value }` / `{}` (absent). */
    const source = (key: string | symbol): { value?: unknown } | undefined => {
      if (typeof key !== 'string') return undefined
      const i = order.get(key)
      if (i !== undefined && i < at && computable[i]) return { value: computed(i) }
      if (i === undefined && !(hidden.has(key) && !Object.hasOwn(row, key))) return undefined
      return Object.hasOwn(stored, key) ? { value: stored[key] } : {}
    }
    return new Proxy(row, {
      get: (t, key) => {
        const from = source(key)
        return from === undefined ? Reflect.get(t, key) : from.value
      },
      has: (t, key) => {
        const from = source(key)
        return from === undefined ? Reflect.has(t, key) : 'value' in from
      },
      ownKeys: (t) => {
        const keys = Reflect.ownKeys(t).filter((key) => {
          const from = source(key)
          return from === undefined || 'value' in from
        })
        for (const key of Object.keys(stored)) if (!keys.includes(key) && source(key)) keys.push(key)
        return keys
      },
      getOwnPropertyDescriptor: (t, key) => {
        const from = source(key)
        if (from === undefined) return Reflect.getOwnPropertyDescriptor(t, key)
        if (!('value' in from)) return undefined
        return { value: from.value, writable: true, enumerable: true, configurable: true }
      },
    })
  }
  applied.forEach((field, i) => {
    if (computable[i]) lazy(row, field, () => computed(i))
  })
  for (const key of hidden) if (!order.has(key)) delete row[key]
}

/** Computed on first access on the caller's own object, then an ordinary property the caller may set. */
function lazy(row: Row, field: ComputedField, compute: () => unknown): void {
  const settle = (value: unknown) =>
    Object.defineProperty(row, field.name, { value, writable: true, enumerable: true, configurable: true })
  Object.defineProperty(row, field.name, {
    get() {
      const value = compute()
      settle(value)
      return value
    },
    set: settle,
    enumerable: true,
    configurable: true,
  })
}
