/**
 * Checks that a value holds only what Prisma returns (plain objects, arrays, strings, numbers, booleans, null,
 * `undefined` for `$cache.wrap`, BigInt within 64 bits, Date, Decimal, Uint8Array), nested at most `MAX_DEPTH`
 * levels, and gives msgpackr a value it writes in Strata's form: Dates, Decimals and -0 replaced by `Written`
 * values. Objects and arrays are copied only on the way to such a value; the caller's value is never changed.
 * Anything else (a Map, a class instance, a function, a cycle) throws `CodecError`: it is not cached.
 */
import { Decimal } from '@prisma/client/runtime/client'
import { CodecError } from '../errors'
import { MAX_DEPTH, NEGATIVE_ZERO, WrittenDate, WrittenDecimal } from './value-extensions'

/**
 * Lists at least this long are written with msgpackr's records. Records take about half the bytes of maps at any
 * length, but msgpackr compiles a reader for a shape at its fourth object, in every value: with scan and decode,
 * 4 and 6 rows of 7 fields read 1.41× and 1.09× slower than in maps, 8 rows 0.92×, 20 rows 0.56× and 50 rows 0.41×
 * (`npx tsx src/probe/records-length.ts` in `packages/bench`).
 */
const RECORDS_FROM = 8

/** What `prepared` found while walking a value. */
export interface Prepared {
  value: unknown
  /** Whether to write it with records: it lists rows, and has no key records cannot carry. */
  records: boolean
}

let rows = false
let recordless = false

/** `prepare` of a whole value, and the form msgpackr writes it in (codec.ts). */
export function prepared(value: unknown): Prepared {
  rows = false
  recordless = false
  const written = prepare(value)
  return { value: written, records: rows && !recordless }
}

/**
 * Keys msgpackr's records cannot carry: `__proto__`, which they rename, and `__keys__`, under which msgpackr's record
 * writer keeps each shape's keys in the tree of shapes it has written (for the life of the process): an object with
 * that key walks into those arrays and from them into `Array` itself, which msgpackr then writes to. A value with
 * one of them is written with maps.
 */
function isRecordless(key: string): boolean {
  return key === '__proto__' || key === '__keys__'
}

export function prepare(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value
    case 'number':
      return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value
    case 'bigint':
      if (BigInt.asIntN(64, value) !== value) throw new CodecError('a BigInt outside 64 bits cannot be cached')
      return value
    case 'object':
      return value === null ? null : prepareObject(value, depth)
    default:
      throw new CodecError(`a ${typeof value} cannot be cached`)
  }
}

function prepareObject(value: object, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new CodecError(`a value nested deeper than ${MAX_DEPTH} levels (or a cycle)`)
  if (Array.isArray(value)) {
    if (value.length >= RECORDS_FROM && typeof value[0] === 'object' && value[0] !== null) rows = true
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const next = prepare(item, depth + 1)
      if (next === item) continue
      out ??= Array.from(value)
      out[i] = next
    }
    return out ?? value
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    let out: Record<string, unknown> | undefined
    for (const key of Object.keys(value)) {
      if (isRecordless(key)) recordless = true
      const item = (value as Record<string, unknown>)[key]
      const next = prepare(item, depth + 1)
      if (next === item) continue
      // Spread copies an own `__proto__` key (Json) as an own property, so assigning it below never sets the
      // copy's prototype (Object.assign would).
      out ??= { ...value }
      out[key] = next
    }
    return out ?? value
  }
  if (value instanceof Date) return new WrittenDate(value.getTime())
  if (value instanceof Uint8Array) return value
  if (Decimal.isDecimal(value)) return new WrittenDecimal(value.toString())
  throw new CodecError(`a ${proto?.constructor?.name ?? 'value'} is not a value Prisma returns; it cannot be cached`)
}
