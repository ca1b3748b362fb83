/**
 * The canonical text of a query's arguments: equal for equal queries whatever the key order, different for
 * different ones (every argument counts, values keep their type). It is the local tier's key as is, and what a
 * Redis entry stores to prove it answers this query (its key name is a hash of it).
 */

import { Decimal } from '@prisma/client/runtime/client'

const plainPrototypes = new Set<unknown>([Object.prototype, null])

const plainKey = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Values whose key order means something and is kept: `orderBy: { a: 'asc', b: 'desc' }`, and Json filter values
 * (`prefs: { equals: { a: 1, b: 2 } }` is not the same query as `{ b: 2, a: 1 }` where Json is stored as text).
 */
const orderedKeys = new Set(['orderBy', 'equals', 'not', 'array_contains', 'array_starts_with', 'array_ends_with'])

/**
 * Selections whose own key order is the order of the fields in the result (`select: { title, id }` returns
 * `{ title, id }`, `_max: { score, id }` returns `{ score, id }`), but whose nested arguments (a relation's
 * `where`) are order-free.
 */
const selectionKeys = new Set(['select', 'include', '_count', '_avg', '_sum', '_min', '_max'])

export function canonical(value: unknown, keepOrder = false, ownOrder = false): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : `#${value}`
    case 'boolean':
      return value ? 'T' : 'F'
    case 'bigint':
      return `${value}n`
    case 'undefined':
      return 'U'
    case 'object':
      return value === null ? 'N' : canonicalObject(value, keepOrder, ownOrder)
    default:
      // Functions and symbols are not query arguments Prisma accepts; keep them apart from everything else.
      return `?${String(value)}`
  }
}

function canonicalObject(value: object, keepOrder: boolean, ownOrder: boolean): string {
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonical(value[i], keepOrder)
    return `${out}]`
  }
  if (value instanceof Date) return `D${value.getTime()}`
  if (ArrayBuffer.isView(value)) {
    return `X${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`
  }
  const proto = Object.getPrototypeOf(value)
  if (!plainPrototypes.has(proto)) {
    // Decimal, Prisma.DbNull/JsonNull/AnyNull, field references: the class name keeps them apart.
    if (Decimal.isDecimal(value)) return `M${(value as InstanceType<typeof Decimal>).toString()}`
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'Object'
    return `${name}${canonicalFields(value, keepOrder, ownOrder)}`
  }
  return canonicalFields(value, keepOrder, ownOrder)
}

function canonicalFields(value: object, keepOrder: boolean, ownOrder: boolean): string {
  const keys = Object.keys(value)
  if (!keepOrder && !ownOrder) sortKeys(keys)
  let out = '{'
  let first = true
  for (const key of keys) {
    const field = (value as Record<string, unknown>)[key]
    if (field === undefined) continue // Prisma treats an undefined argument as absent
    // Argument names are identifiers; only other keys (Json paths, odd field names) need quoting.
    const name = plainKey.test(key) ? key : JSON.stringify(key)
    out += `${first ? '' : ','}${name}:${canonical(field, keepOrder || orderedKeys.has(key), selectionKeys.has(key))}`
    first = false
  }
  return `${out}}`
}

/**
 * Sorts keys in place as `Array.prototype.sort` does (UTF-16 code units). It runs for every object of every read's
 * arguments, as its query text is built; these have a few keys each, and the built-in sort makes a work array on
 * every call, where an insertion sort makes none. Past 16 keys (a wide `data` or `select`), its quadratic number of
 * steps is left to the built-in sort.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort()
    return
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string
    let j = i - 1
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string
      j--
    }
    keys[j + 1] = key
  }
}
