/**
 * Computed fields of result extensions below Strata (`prisma.$extends({ result }).$extends(cache())`). Prisma adds
 * them to what its query returns; a function or a class instance does not survive the codec, and a closure kept
 * in the local tier would act on another caller's object. So the cache holds the rows as they are below the
 * computed fields (`strip`, on the way in), and every answer gets them again on the caller's own copy (`apply`),
 * the way Prisma applies them: per object of a model that has them, following `include`/`select`, honouring
 * `select`/`omit` (and the client's global `omit`), lazily, computed on first access.
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

  /** The computed fields of the client below Strata, or undefined when it has none (the common case). */
  static of(graph: ModelGraph, client: Record<string, unknown>): ComputedFields | undefined {
    const list = client._extensions as ExtensionList | undefined
    const byModel = new Map<string, ComputedField[]>()
    for (const model of graph.models.keys()) {
      const fields = list?.getAllComputedFields?.(delegateName(model))
      if (fields && Object.keys(fields).length > 0) byModel.set(model, Object.values(fields))
    }
    if (byModel.size === 0) return undefined
    return new ComputedFields(graph, byModel, client._globalOmit as Record<string, Args> | undefined)
  }

  /** Whether `model` itself has computed fields. */
  has(model: string): boolean {
    return this.byModel.has(model)
  }

  /**
   * Whether the rows the caller sees cannot compute a field of this read again: it needs a stored field the read
   * leaves out (`select: { fullName: true }`: Prisma fetches and hides it), or it replaces a stored field of the
   * same name. Such reads are not cached.
   */
  cannotRepeat(model: string, args: Args | undefined): boolean {
    const a = args ?? {}
    const info = this.graph.models.get(model)
    for (const field of this.byModel.get(model) ?? []) {
      if (!this.applies(model, a, field)) continue
      if (this.hidden(model, a, field) || info?.scalars.has(field.name) || info?.relations.has(field.name)) return true
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
    const names = new Set((this.byModel.get(model) ?? []).map((f) => f.name))
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

  /** Adds the computed fields to an answer the caller owns (a copy out of the cache), in place. */
  apply(value: unknown, model: string, args: Args | undefined): unknown {
    if (Array.isArray(value)) {
      for (const item of value) this.apply(item, model, args)
      return value
    }
    if (!isObject(value)) return value
    const a = args ?? {}
    for (const field of this.byModel.get(model) ?? []) {
      if (this.applies(model, a, field) && field.needs.every((n) => Object.hasOwn(value, n))) {
        lazy(value, field, delegateName(model))
      }
    }
    for (const [key, sub] of this.relations(model, a)) {
      if (value[key] != null) this.apply(value[key], this.target(model, key), isObject(sub) ? sub : {})
    }
    return value
  }

  /** Prisma's rule: with `select`, only the computed fields it names; else all but those `omit` names. */
  private applies(model: string, args: Args, field: ComputedField): boolean {
    if (isObject(args.select)) return Boolean(args.select[field.name])
    return !this.omit(model, args)[field.name]
  }

  private hidden(model: string, args: Args, field: ComputedField): boolean {
    if (isObject(args.select)) {
      const select = args.select
      return field.needs.some((n) => !select[n])
    }
    const omit = this.omit(model, args)
    return field.needs.some((n) => omit[n])
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

/** Computed on first access on the caller's own object (it sees the caller's changes, like Prisma's). */
function lazy(row: Row, field: ComputedField, model: string): void {
  const settle = (value: unknown) =>
    Object.defineProperty(row, field.name, { value, writable: true, enumerable: true, configurable: true })
  Object.defineProperty(row, field.name, {
    get() {
      const value = field.compute(row, model)
      settle(value)
      return value
    },
    set: settle,
    enumerable: true,
    configurable: true,
  })
}
