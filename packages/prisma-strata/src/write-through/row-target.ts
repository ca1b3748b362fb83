/**
 * Which row a point read asks for, when it can be served from a write-through row entry: a `findUnique` whose
 * `where` is exactly one unique key (the primary key, a `@unique` field or a compound unique) with plain values,
 * and whose selection is scalar fields only (`select` of scalars, `omit`, or neither). Anything else (relations,
 * extra filters, `_count`) is an ordinary cached read.
 */

import type { Args } from '../args'
import { copyResult } from '../read/copy-result'
import type { ModelInfo } from '../schema/model-graph'

export interface RowTarget {
  /** The row's primary key values as text, when the read names them; else the read names another unique key. */
  idText: string | undefined
  /** The unique key the read names, as text (`field=value`), when it is not the primary key. */
  uniqueText: string | undefined
  /** The fields and values of that unique key: a row answers the read only if it still has them. */
  fields: string[]
  values: unknown[]
}

export function isPlainObject(value: unknown): value is Args {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * A key value as text, by field type, or undefined for values rows are not keyed by (Decimal, Bytes, Json,
 * DateTime): `5` and `5n` on a BigInt field are the same row. Not a DateTime: the database may hold more than the
 * milliseconds of the Date Prisma returns (`@db.Timestamp(6)`, or a value written by SQL), so a row's value cannot
 * tell whether the database would match a read's; and Prisma rejects strings `new Date` would take.
 */
export function keyPart(type: string | undefined, value: unknown): string | undefined {
  switch (type) {
    case 'Int':
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
    case 'BigInt':
      if (typeof value === 'bigint') return value.toString()
      return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined
    case 'String':
    case 'enum':
      return typeof value === 'string' ? JSON.stringify(value) : undefined
    case 'Boolean':
      return typeof value === 'boolean' ? String(value) : undefined
    default:
      return undefined
  }
}

/** The text of `fields` of `row` (or of values given in the same order), or undefined if one cannot be keyed. */
export function keyText(info: ModelInfo, fields: readonly string[], values: readonly unknown[]): string | undefined {
  let text = ''
  for (let i = 0; i < fields.length; i++) {
    const part = keyPart(info.types.get(fields[i] as string), values[i])
    if (part === undefined) return undefined
    text += `${i ? ',' : ''}${fields[i]}=${part}`
  }
  return text
}

/** The primary key text of a row as Prisma returned it, or undefined when it lacks a key field. */
export function rowIdText(info: ModelInfo, row: unknown): string | undefined {
  if (!isPlainObject(row) || info.id.length === 0) return undefined
  return keyText(
    info,
    info.id,
    info.id.map((f) => row[f]),
  )
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f))
}

/** How many flags are true, when `value` is boolean flags on scalar fields only (`{ name: true, email: false }`). */
function trueScalarFlags(info: ModelInfo, value: Args): number | undefined {
  let count = 0
  for (const key in value) {
    const flag = value[key]
    if (!info.scalars.has(key) || typeof flag !== 'boolean') return undefined
    if (flag) count++
  }
  return count
}

export function rowTarget(info: ModelInfo, args: Args | undefined): RowTarget | undefined {
  if (!args || info.id.length === 0) return undefined
  for (const key in args) if (key !== 'where' && key !== 'select' && key !== 'omit') return undefined
  const { select, omit } = args
  if (select !== undefined) {
    // `select: {}` or all false, and an `omit` of every field, are Prisma's validation errors: Prisma gives them.
    if (omit !== undefined || !isPlainObject(select) || !trueScalarFlags(info, select)) return undefined
  } else if (omit !== undefined) {
    if (!isPlainObject(omit)) return undefined
    const omitted = trueScalarFlags(info, omit)
    if (omitted === undefined || omitted === info.scalars.size) return undefined
  }
  const where = args.where
  if (!isPlainObject(where)) return undefined
  const keys = Object.keys(where)
  if (keys.length !== 1) return undefined
  const key = keys[0] as string
  const value = where[key]
  let fields: string[]
  let values: unknown[]
  let unique: string[] | undefined
  if (info.scalars.has(key)) {
    fields = [key]
    values = [value]
    unique = info.uniques.find((u) => sameFields(u, fields))
  } else if (isPlainObject(value)) {
    fields = Object.keys(value)
    values = fields.map((f) => value[f])
    // Under the name Prisma gives the key: under any other, Prisma rejects the read.
    const named = info.compound.get(key)
    unique = named && sameFields(named, fields) ? named : undefined
  } else return undefined
  if (!unique) return undefined
  // In the key's own field order, so `{ a, b }` and `{ b, a }` are one row.
  values = unique.map((f) => values[fields.indexOf(f)])
  const text = keyText(info, unique, values)
  if (text === undefined) return undefined
  const isId = sameFields(unique, info.id)
  return {
    idText: isId ? text : undefined,
    uniqueText: isId ? undefined : text,
    fields: unique,
    values,
  }
}

/** Whether a row (as stored: every scalar field) still has the unique key values a read asked for. */
export function rowHasKey(info: ModelInfo, row: unknown, target: RowTarget): boolean {
  if (!isPlainObject(row)) return false
  return (
    keyText(
      info,
      target.fields,
      target.fields.map((f) => row[f]),
    ) === keyText(info, target.fields, target.values)
  )
}

/** The `where` that reads row `row` by its primary key. */
export function idWhere(info: ModelInfo, row: Args): Args {
  if (info.id.length === 1) return { [info.id[0] as string]: row[info.id[0] as string] }
  const values: Args = {}
  for (const f of info.id) values[f] = row[f]
  // Under the name Prisma gives the key (`@@id(..., name: "pk")`); unknown, the default (a wrong one fails the put,
  // and the row's next read fills it).
  const named = [...info.compound].find(([, fields]) => sameFields(fields, info.id))
  return { [named?.[0] ?? info.id.join('_')]: values }
}

/**
 * What the read returns, from the whole row: the `select`ed fields in the order selected, as Prisma returns them,
 * or all but the omitted ones (the query's `omit` over the client's global `omit`) in the row's (schema) order.
 * A deep copy: the stored row is never handed out.
 */
export function project(row: Args, args: Args | undefined, globalOmit: Args | undefined): Args {
  const out: Args = {}
  const select = args?.select as Args | undefined
  if (select) {
    for (const key in select) if (select[key] === true && key in row) out[key] = copyResult(row[key])
    return out
  }
  const omit = args?.omit as Args | undefined
  for (const key in row) {
    const omitted = omit?.[key] ?? globalOmit?.[key]
    if (omitted !== true) out[key] = copyResult(row[key])
  }
  return out
}

/** `select` of every scalar field: the whole row, whatever the caller selected. */
export function wholeRow(info: ModelInfo): Args {
  const select: Args = {}
  for (const field of info.scalars) select[field] = true
  return select
}
